"""`python -m bench.server --cpu N`: one API process serving the bench app, settings from the environment."""
from __future__ import annotations

import argparse
import os


from bench.app import create_bench_app
from mysocial import config
from mysocial.cli import run_api
from mysocial.core import logs


def pin(cpus: set[int] | None) -> None:
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cpus)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--cpu", type=int, help="pin this process to one CPU")
    args = parser.parse_args(argv)
    pin({args.cpu} if args.cpu is not None else None)
    settings = config.load()
    logs.setup(settings.log_level, settings.log_format)
    run_api(create_bench_app(settings), settings, f"bench API listening on {settings.port}")


if __name__ == "__main__":
    main()
