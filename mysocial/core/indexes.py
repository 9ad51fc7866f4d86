"""Per-owner sorted-set indexes (follow lists, notification lists) rebuilt from MongoDB when missing.

Such an index has no TTL: it is the list itself, and an empty one is simply an
absent key, so a set `<loaded>` records whose indexes are in Redis. A reader
loads an owner's indexes on first use; the load merges MongoDB's rows in and
marks the owner, atomically, and does nothing if another load won the race.
A writer must load first (its script checks the marker): a change written into
an index that was never loaded would otherwise be merged later with MongoDB
rows that the change had already superseded.
"""
from __future__ import annotations

from typing import Awaitable, Callable

import redis.asyncio as aredis
from redis.commands.core import AsyncScript

Entries = dict[str, dict[str, float]]  # index key -> {member: score}

LOAD_LUA = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
local a = 2
for i = 2, #KEYS do
  local n = tonumber(ARGV[a])
  a = a + 1
  for _ = 1, n do
    redis.call('ZADD', KEYS[i], ARGV[a], ARGV[a + 1])
    a = a + 2
  end
end
redis.call('SADD', KEYS[1], ARGV[1])
return 1
"""
_load = AsyncScript(aredis.Redis(), LOAD_LUA)


def _script_args(loaded: str, owner: str, entries: Entries) -> tuple[list, list]:
    keys, args = [loaded], [owner]
    for key, items in entries.items():
        keys.append(key)
        args.append(len(items))
        for member, score in items.items():
            args += [score, member]
    return keys, args


async def ensure(client: aredis.Redis, loaded: str, owners, load: Callable[[str], Awaitable[Entries]]) -> None:
    """Load the indexes of every owner not yet marked in `loaded`; `load(owner)` reads MongoDB."""
    owners = list(dict.fromkeys(owners))
    flags = await client.smismember(loaded, owners)
    for owner, present in zip(owners, flags):
        if not present:
            keys, args = _script_args(loaded, owner, await load(owner))
            await _load(keys=keys, args=args, client=client)


def ensure_sync(client, loaded: str, owner: str, load: Callable[[str], Entries]) -> None:
    """The same for workers (synchronous Redis and MongoDB)."""
    if not client.sismember(loaded, owner):
        keys, args = _script_args(loaded, owner, load(owner))
        client.eval(LOAD_LUA, len(keys), *keys, *args)
