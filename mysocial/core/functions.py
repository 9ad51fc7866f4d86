"""The Redis Functions library (`mysocial/lua/*.lua`): loaded when the API and the workers start,
called by name with FCALL. Its conventions (named arguments, return values, refusals) are at the
top of `lib.lua`.

A refusal comes back as a `Refused` value among a batch's results, not as an exception: a
transaction refused in part is retried whole by `core.writepath.commit` once the cause is
fixed (a hash filled from MongoDB, an index completed), which only works because every write
function is idempotent.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from redis.exceptions import ResponseError

LIBRARY = "mysocial"
FOLDER = Path(__file__).resolve().parents[1] / "lua"
# lib.lua's helpers first; a file may use the helpers of those before it.
ORDER = ("lib", "ledger", "docs", "indexes", "misc", "auth", "users", "graph", "posts", "timelines", "reactions", "comments",
         "notifications", "chat", "sessions", "moderation")


@lru_cache(maxsize=1)
def source() -> str:
    files = sorted(FOLDER.glob("*.lua"))
    names = [f.stem for f in files]
    if sorted(names) != sorted(ORDER):
        raise RuntimeError(f"lua files {names} do not match the load order {ORDER}")
    parts = [f"#!lua name={LIBRARY}"] + [(FOLDER / f"{name}.lua").read_text() for name in ORDER]
    return "\n".join(parts)


async def load(client) -> None:
    """FUNCTION LOAD REPLACE: this code's version of the library (asyncio client)."""
    await client.function_load(source(), replace=True)


@dataclass(frozen=True)
class Refused:
    """A function's refusal: `reason` (`missing`, `incomplete`, or a rule's name) and `detail`
    (the missing key, the incomplete index)."""

    reason: str
    detail: str = ""

    @classmethod
    def parse(cls, error: Exception) -> "Refused | None":
        text = str(error)
        if not isinstance(error, ResponseError) or not text.startswith("REFUSED "):
            return None
        reason, _, detail = text[len("REFUSED "):].partition(" ")
        return cls(reason, detail)


def missing_library(error: Exception) -> bool:
    """Whether `error` says the library is not loaded (a Redis replaced or flushed since start):
    nothing of the call ran, so it can be loaded and the call made again."""
    return isinstance(error, ResponseError) and "Function not found" in str(error)


def call(pipe, name: str, keys: list | tuple, named: dict | None = None, *fields: Any) -> None:
    """Queue FCALL `name` on a pipeline: `named` is the JSON object of named arguments,
    `fields` the field/value pairs of a hash the function stores."""
    pipe.execute_command("FCALL", name, len(keys), *keys, orjson.dumps(named or {}), *fields)


def flat(mapping: dict) -> list:
    """A hash's fields as the `fields` of `call`."""
    return [item for pair in mapping.items() for item in pair]
