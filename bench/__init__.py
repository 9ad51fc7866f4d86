"""`python -m bench`: requests/s, p50 and p99 of the real routes against baselines on the same stack.

One run starts its own redis-server, one API process (pinned to one core),
and drives it with wrk (or an aiohttp client when wrk is absent) from the
other core. See `python -m bench --help` and bench/run.py for the phases.
"""
