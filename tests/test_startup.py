"""What the commands refuse at start-up, run as an operator would run them (subprocesses)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECRETS = {"JWT_SECRET": "j" * 40, "SECRET_KEY_ONE": "k" * 40}


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("MONGO_URL", "DATABASE_URL", "NODE_ENV", "MYSOCIAL_ENV", "JWT_SECRET", "SECRET_KEY_ONE")}
    return subprocess.run([sys.executable, "-m", "mysocial", *args], env={**clean, "PYTHONPATH": str(ROOT), **env},
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("command", ["serve", "worker", "scheduler", "migrate"])
def test_no_mongo_url_no_start(command, settings):
    """No silent in-memory store: without MONGO_URL each command exits non-zero, naming it."""
    done = run(command, NODE_ENV="production", REDIS_URL=settings.redis_url, **SECRETS)
    assert done.returncode != 0
    assert "MONGO_URL is not set" in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_no_mongo_url_no_start_in_development_either(settings):
    done = run("worker", REDIS_URL=settings.redis_url)
    assert done.returncode != 0 and "MONGO_URL is not set" in done.stderr, done.stderr


def test_seed_in_process_needs_mongo_url(settings):
    done = run("seed", "--users", "1", REDIS_URL=settings.redis_url)
    assert done.returncode != 0 and "MONGO_URL is not set" in done.stderr, done.stderr


def test_migrate_creates_the_indexes(settings, db):
    name = settings.mongo_db + "_migrate"  # a database no process has started on yet
    fresh = db.client[name]

    def edge_index() -> bool:
        return any(spec.get("unique") and [k for k, _ in spec["key"]] == ["followerId", "followeeId"]
                   for spec in fresh["follows"].index_information().values())

    assert not edge_index()
    try:
        for _ in range(2):  # idempotent
            done = run("migrate", REDIS_URL=settings.redis_url, MONGO_URL=settings.mongo_url, MONGO_DB=name)
            assert done.returncode == 0, done.stderr
            assert edge_index()
    finally:
        db.client.drop_database(name)


def test_node_env_is_matched_without_case_and_unknown_values_refused(settings):
    done = run("serve", NODE_ENV="Production", REDIS_URL=settings.redis_url, MONGO_URL=settings.mongo_url)
    assert done.returncode != 0
    assert "production needs JWT_SECRET, SECRET_KEY_ONE set" in done.stderr, "Production is production: " + done.stderr
    done = run("serve", NODE_ENV="prod", REDIS_URL=settings.redis_url, MONGO_URL=settings.mongo_url)
    assert done.returncode != 0 and "NODE_ENV must be one of development, production, test, bench" in done.stderr
    assert "Traceback" not in done.stderr
