"""`mysocial serve | worker | scheduler | dev | dashboard | seed | migrate`."""
from __future__ import annotations

import argparse
import gc
import logging
import os
import sys

from mysocial import config
from mysocial.core import logs


def _settings(args) -> config.Settings:
    settings = config.load()
    if getattr(args, "port", None):
        settings = settings.with_(port=args.port, api_url=os.environ.get("API_URL", f"http://localhost:{args.port}"))
    return settings


def use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    uvloop.install()


GC_THRESHOLDS = (10_000, 20, 20)


async def _freeze_heap(app) -> None:
    """What start-up built lives as long as the process: keep it out of every later collection."""
    gc.collect()
    gc.freeze()


def run_api(app, settings: config.Settings, listening: str) -> None:
    """Serve `app` until SIGTERM/SIGINT, on uvloop when installed.

    The garbage collector is tuned for a server: the start-up heap (modules,
    schemas, routes) is frozen, and young collections run every 10,000
    allocations instead of 700. With 500 sockets on an instance, full
    collections of the default settings paused it ~100 ms during a broadcast
    (bench/fanout.py).
    """
    from aiohttp import web

    use_uvloop()
    gc.set_threshold(*GC_THRESHOLDS)
    app.on_startup.append(_freeze_heap)
    log = logging.getLogger("mysocial")

    async def stopping(app) -> None:
        log.info("API stopping: no new connections; in-flight requests finish (up to 30 s)")

    async def stopped(app) -> None:
        log.info("API stopped")

    app.on_shutdown.insert(0, stopping)
    app.on_cleanup.append(stopped)

    def listening_now(*_) -> None:
        log.info(listening)
        ready()

    web.run_app(app, host=settings.host, port=settings.port, shutdown_timeout=30, access_log=None,
                print=listening_now, reuse_port=settings.reuse_port)


def ready() -> None:
    """Tell PM2 the instance listens (`wait_ready`): a `pm2 reload` then moves on to the next
    instance only once this one answers. PM2 forks with an IPC channel whose fd it passes in
    NODE_CHANNEL_FD; a message is a line of JSON."""
    fd = os.environ.get("NODE_CHANNEL_FD")
    if fd and fd.isdigit():
        try:
            os.write(int(fd), b'"ready"\n')
        except OSError:
            logging.getLogger("mysocial").warning("could not tell the process manager that the API is ready")


def serve(settings: config.Settings) -> None:
    from mysocial.app import create_app

    run_api(create_app(settings), settings, f"API listening on {settings.host}:{settings.port} ({settings.env})")


def serve_many(settings: config.Settings, count: int) -> int:
    """`count` API processes on one port (SO_REUSEPORT: the kernel spreads the connections over
    them), each an instance of its own (`<INSTANCE_NAME>-<n>`: presence is counted per instance)
    with the same secrets (development generates them once, here). SIGTERM or SIGINT is passed
    on; when one process ends, the others are stopped, and its exit status is this one's."""
    import signal
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "NODE_CHANNEL_FD"}
    env.update(REUSE_PORT="1", PORT=str(settings.port), JWT_SECRET=settings.jwt_secret,
               SECRET_KEY_ONE=settings.cookie_keys[0])
    if len(settings.cookie_keys) > 1:
        env["SECRET_KEY_TWO"] = settings.cookie_keys[1]
    procs = [subprocess.Popen([sys.executable, "-m", "mysocial", "serve"],
                              env={**env, "INSTANCE_NAME": f"{settings.instance}-{n}"}) for n in range(count)]

    def stop(signum, _frame) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _wait_for_port(settings, procs)
    ready()
    status = None
    while status is None:
        for proc in procs:
            try:
                code = proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                continue
            status = code
            stop(signal.SIGTERM, None)
            break
    for proc in procs:
        proc.wait()
    return status


def _wait_for_port(settings: config.Settings, procs: list) -> None:
    import socket
    import time

    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    while all(proc.poll() is None for proc in procs):
        try:
            socket.create_connection((host, settings.port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)


def grant(settings: config.Settings, username: str, role: str) -> tuple[int, str]:
    """Give a user a role through the write path (a worker persists it); (exit status, message)."""
    from mysocial.core.errors import ApiError
    from mysocial.moderation import service
    from workers import context

    ctx = context.Context(settings)
    try:
        granted = ctx.run(service.grant(ctx.app, username, role))
    except ApiError as exc:
        return 1, f"mysocial: {exc.message}\n"
    finally:
        ctx.close()
    return 0, f"{granted['username']} ({granted['userId']}) is now {granted['role']}\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="mysocial")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("serve", "run one API instance"),
        ("worker", "run an RQ worker on every queue"),
        ("scheduler", "run the periodic-job scheduler"),
        ("dev", "run API, workers and scheduler with embedded defaults"),
        ("dashboard", "run rq-dashboard behind a login (default port 9181, localhost)"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--port", type=int, help="port to listen on (default: $PORT or 5000)")
        if name == "serve":
            p.add_argument("--workers", type=int, default=1,
                           help="API processes sharing the port (SO_REUSEPORT; default 1)")
        if name == "dashboard":
            p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        if name == "worker":
            p.add_argument("--queues", help="comma-separated queues to work (default: every queue), e.g. feed")
        if name == "dev":
            p.add_argument("--workers", type=int, default=2, help="worker threads")
            p.add_argument("--fresh", action="store_true", help="start with empty data (deletes .mysocial/)")
    sub.add_parser("migrate", help="create every MongoDB index (idempotent)")
    admin = sub.add_parser("admin", help="staff roles: `mysocial admin grant USERNAME admin|moderator|user`")
    admin.add_argument("action", choices=["grant"])
    admin.add_argument("username")
    admin.add_argument("role", choices=["admin", "moderator", "user"])
    seed = sub.add_parser("seed", help="create a realistic data set through the API")
    seed.add_argument("--url", help="API base URL (default: run the API in this process)")
    for option, default in (("users", 20), ("posts", 3), ("follows", 5), ("reactions", 40),
                            ("comments", 30), ("messages", 30), ("seed", 1)):
        seed.add_argument(f"--{option}", type=int, default=default)
    args = parser.parse_args(argv)
    if args.command == "dev":
        os.environ.setdefault("LOG_FORMAT", "text")  # a person reads dev's log; services log JSON
    try:
        settings = _settings(args)
    except config.ConfigError as exc:
        parser.exit(2, f"mysocial: {exc}\n")
    logs.setup(settings.log_level, settings.log_format)
    needs_mongo = args.command in ("serve", "worker", "scheduler", "migrate", "admin") or (
        args.command == "seed" and not args.url)
    if needs_mongo and not settings.mongo_url:
        parser.exit(2, f"mysocial: MONGO_URL is not set: `{args.command}` needs a MongoDB server "
                       "(MONGO_URL=mongodb://host:27017); `mysocial dev` starts a local one for trying it out\n")

    if args.command == "serve":
        if args.workers < 1:
            parser.exit(2, "mysocial: --workers must be at least 1\n")
        if args.workers > 1:
            sys.exit(serve_many(settings, args.workers))
        serve(settings)
    elif args.command == "worker":
        from queues import QUEUES
        from workers import runner

        wanted = [q.strip() for q in args.queues.split(",")] if args.queues else list(QUEUES)
        unknown = sorted(set(wanted) - set(QUEUES))
        if unknown:
            parser.exit(2, f"mysocial: unknown queues {', '.join(unknown)} (queues: {', '.join(QUEUES)})\n")
        runner.run(settings, wanted)
    elif args.command == "scheduler":
        from workers import scheduler

        scheduler.run(settings)
    elif args.command == "seed":
        from mysocial import seed as seeding

        plan = seeding.Plan(args.users, args.posts, args.follows, args.reactions, args.comments, args.messages,
                            args.seed)
        seeding.main(settings, args.url, plan)
    elif args.command == "dashboard":
        from mysocial import dashboard

        try:
            dashboard.run(settings, args.port or 9181, args.host)
        except config.ConfigError as exc:
            parser.exit(2, f"mysocial: {exc}\n")
    elif args.command == "migrate":
        import asyncio

        from mysocial import migrate

        made = asyncio.run(migrate.run(settings))
        logging.getLogger("mysocial").info("indexes in place: %s", ", ".join(made))
    elif args.command == "admin":
        status, message = grant(settings, args.username, args.role)
        if status:
            parser.exit(status, message)
        sys.stdout.write(message)
    elif args.command == "dev":
        from mysocial import dev

        serve(dev.start(settings, workers=args.workers, fresh=args.fresh))


if __name__ == "__main__":
    main()
