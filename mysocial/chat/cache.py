"""Chat in Redis (only this module knows these keys):

- `chat:msg:<messageId>` hash: one message (JSON fields, like every cached document).
- `chat:conv:<conversationId>` hash: `_id, participants, senderId, receiverId, seq`
  (last sequence number, HINCRBY), `lastMessageId, lastMessageAt` (ms), `createdAt`.
  No TTL: `seq` must never restart while the conversation lives.
- `chat:conv:<conversationId>:msgs` sorted set: messageIds scored by `seq`.
- `chat:conv:<conversationId>:unread:<userId>` sorted set: messages to that user
  not yet read (nor deleted); its ZCARD is the unread count. No TTL, rebuilt
  from MongoDB together with the conversation hash.
- `chat:pair:<userId>:<userId>` (ids sorted) -> conversationId. No TTL.
- `chat:list:<userId>` sorted set: conversationIds scored by last message time
  (ms), plus the member `~` scored 0 meaning "complete": a set without it was
  evicted or never built, and is merged with MongoDB before use.
- `chat:open:<userId>` set: users whose chat this user has open (a day's TTL).

Message hashes and message sets get the cache TTL once persisted and are read
back from MongoDB by sequence window; sequence numbers are dense (1..seq), so
a window with fewer members than numbers is known to be incomplete.
"""
from __future__ import annotations

from typing import Iterable

from aiohttp import web

from mysocial.chat import lua, store
from mysocial.core.appkeys import MONGO, REDIS, SETTINGS
from mysocial.core.cache import Kind, hold, read_for_write, read_many, read_through
from mysocial.core.reads import Read, plain, read_one
from mysocial.core.redis import from_hash, run_script, text, to_hash

COMPLETE = "~"
OPEN_TTL = 24 * 3600


def message_key(message_id: str) -> str:
    return f"chat:msg:{message_id}"


def conversation_key(conversation_id: str) -> str:
    return f"chat:conv:{conversation_id}"


def messages_key(conversation_id: str) -> str:
    return f"chat:conv:{conversation_id}:msgs"


def unread_key(conversation_id: str, user_id: str) -> str:
    return f"chat:conv:{conversation_id}:unread:{user_id}"


def pair_key(a: str, b: str) -> str:
    return "chat:pair:" + ":".join(store.pair(a, b))


def list_key(user_id: str) -> str:
    return f"chat:list:{user_id}"


def open_key(user_id: str) -> str:
    return f"chat:open:{user_id}"


# Conversations -------------------------------------------------------------

async def conversation_id(app: web.Application, a: str, b: str, create: str | None = None) -> str | None:
    """The conversation of users `a` and `b`; with `create`, that id becomes theirs if they have none."""
    r = app[REDIS]
    found = text(await r.get(pair_key(a, b)))
    if found:
        return found
    stored = await store.conversation_between(app[MONGO], a, b)
    candidate = stored["_id"] if stored else create
    if candidate is None:
        return None
    previous = text(await r.set(pair_key(a, b), candidate, nx=True, get=True))
    return previous or candidate


async def conversation(app: web.Application, conversation_id: str) -> dict | None:
    """The cached conversation; after an eviction it is rebuilt from MongoDB with its unread sets."""
    raw = await app[REDIS].hgetall(conversation_key(conversation_id))
    if raw:
        return from_hash(raw)
    db = app[MONGO]
    doc = await store.find_conversation(db, conversation_id)
    if doc is None:
        return None
    newest = await store.last_message(db, conversation_id)
    if newest and newest["seq"] > doc.get("seq", 0):
        # The message was persisted before the conversation's own job ran.
        doc |= {"seq": newest["seq"], "lastMessageId": newest["_id"]}
    args: list = [len(doc)]
    for field, value in to_hash(doc).items():
        args += [field, value]
    one, two = doc["participants"]
    for user_id in (one, two):
        unread = await store.unread_for(db, conversation_id, user_id)
        args.append(len(unread))
        for seq, message_id in unread:
            args += [seq, message_id]
    keys = [conversation_key(conversation_id), unread_key(conversation_id, one), unread_key(conversation_id, two)]
    if not await lua.FILL_CONVERSATION(keys=keys, args=args, client=app[REDIS]):
        raw = await app[REDIS].hgetall(conversation_key(conversation_id))
        return from_hash(raw) if raw else doc
    return doc


def conversation_read(conversation_id: str) -> Read:
    """`conversation` as a `Read` (mysocial.core.reads)."""
    async def finish(app: web.Application, replies: list) -> dict | None:
        return from_hash(replies[0]) if replies[0] else await conversation(app, conversation_id)

    return Read(lambda pipe: pipe.hgetall(conversation_key(conversation_id)), 1, finish)


async def conversations(app: web.Application, conversation_ids: list[str]) -> list[dict]:
    """Several conversations in one round trip (and a fill for each one not cached)."""
    async with app[REDIS].pipeline(transaction=False) as pipe:
        for conv_id in conversation_ids:
            pipe.hgetall(conversation_key(conv_id))
        raws = await pipe.execute()
    found = [from_hash(raw) if raw else await conversation(app, conv_id) for conv_id, raw in zip(conversation_ids, raws)]
    return [c for c in found if c is not None]


def new_conversation(conversation_id: str, sender: str, receiver: str, at: str) -> dict:
    return {"_id": conversation_id, "participants": store.pair(sender, receiver),
            "senderId": sender, "receiverId": receiver, "createdAt": at}


async def unread_counts(app: web.Application, conversation_ids: list[str], user_id: str) -> list[int]:
    async with app[REDIS].pipeline(transaction=False) as pipe:
        for conv_id in conversation_ids:
            pipe.zcard(unread_key(conv_id, user_id))
        return await pipe.execute()


def unread_read(conversation_id: str, user_ids: list[str]) -> Read:
    """Each user's unread count in one conversation, as a `Read`."""
    def queue(pipe) -> None:
        for user_id in user_ids:
            pipe.zcard(unread_key(conversation_id, user_id))

    return plain(queue, len(user_ids))


async def unread_ids(app: web.Application, conversation_id: str, user_id: str) -> list[str]:
    return [m.decode() for m in await app[REDIS].zrange(unread_key(conversation_id, user_id), 0, -1)]


async def _fill_set(app: web.Application, key: str, mode: str, scored: Iterable[tuple[float, str]]) -> None:
    args: list = [app[SETTINGS].cache_ttl, mode]
    for score, member in scored:
        args += [score, member]
    await lua.FILL_SET(keys=[key], args=args, client=app[REDIS])


async def chat_list(app: web.Application, user_id: str, limit: int) -> list[str]:
    """Conversation ids of `user_id`, most recent message first."""
    key = list_key(user_id)
    r = app[REDIS]
    if await r.zscore(key, COMPLETE) is None:
        entries = await store.conversations_of(app[MONGO], user_id)
        await _fill_set(app, key, "GT", [(ms, conv_id) for conv_id, ms in entries] + [(0, COMPLETE)])
    return [m.decode() for m in await r.zrevrangebyscore(key, "+inf", "(0", start=0, num=limit)]


# Messages ------------------------------------------------------------------

MESSAGE = Kind("message", message_key)


async def message(app: web.Application, message_id: str) -> dict | None:
    return await read_through(app, MESSAGE, message_id, lambda mid: store.find_message(app[MONGO], mid))


async def message_for_write(app: web.Application, message_id: str) -> dict | None:
    return await read_for_write(app, MESSAGE, message_id, lambda mid: store.find_message(app[MONGO], mid))


async def messages(app: web.Application, message_ids: list[str], for_write: bool = False) -> list[dict]:
    if for_write:
        await hold(app, [message_key(m) for m in message_ids])
    return await read_many(app, MESSAGE, message_ids, lambda mid: store.find_message(app[MONGO], mid))


async def window(app: web.Application, conversation_id: str, low: int, high: int) -> list[str]:
    """Message ids with `low <= seq <= high`, in order; missing ones are read back from MongoDB."""
    if high < low:
        return []
    key = messages_key(conversation_id)
    found = await app[REDIS].zrangebyscore(key, low, high, withscores=True)
    if len(found) < high - low + 1:
        docs = await store.messages_between_seq(app[MONGO], conversation_id, low, high)
        await _fill_set(app, key, "NX", [(d["seq"], d["_id"]) for d in docs])
        found = await app[REDIS].zrangebyscore(key, low, high, withscores=True)
    return [m.decode() for m, _ in found]


# Writes (queued on a write-path transaction) ---------------------------------

def send(pipe, conv: dict, msg: dict, score: int) -> None:
    """Queue the send: its result (in the transaction's results) is [the message's sequence number,
    the sender's unread count, the receiver's]."""
    conv_id, msg_id = conv["_id"], msg["_id"]
    keys = [conversation_key(conv_id), message_key(msg_id), messages_key(conv_id), list_key(msg["senderId"]),
            list_key(msg["receiverId"]), unread_key(conv_id, msg["receiverId"]), unread_key(conv_id, msg["senderId"])]
    args: list = [msg_id, conv_id, score, "1" if msg["isRead"] else "0", len(conv)]
    for pairs in (to_hash(conv), to_hash(msg)):
        for field, value in pairs.items():
            args += [field, value]
    run_script(pipe, lua.SEND, keys, args)


def mark_read(pipe, conversation_id: str, reader: str, message_ids: list[str]) -> None:
    keys = [unread_key(conversation_id, reader)] + [message_key(m) for m in message_ids]
    run_script(pipe, lua.MARK_READ, keys, message_ids)


def react(pipe, message_id: str, sender_name: str, action: str, reaction: str) -> None:
    run_script(pipe, lua.REACT, [message_key(message_id)], [sender_name, action, reaction])


def delete(pipe, msg: dict, caller: str, kind: str) -> None:
    conv_id = msg["conversationId"]
    keys = [message_key(msg["_id"]), unread_key(conv_id, caller), unread_key(conv_id, msg["receiverId"])]
    run_script(pipe, lua.DELETE, keys, [caller, kind, msg["_id"]])


# Who has which chat open ---------------------------------------------------------

async def set_open(app: web.Application, user_id: str, other: str, is_open: bool) -> None:
    async with app[REDIS].pipeline(transaction=True) as pipe:
        if is_open:
            pipe.sadd(open_key(user_id), other)
            pipe.expire(open_key(user_id), OPEN_TTL)
        else:
            pipe.srem(open_key(user_id), other)
        await pipe.execute()


async def close_all(app: web.Application, user_id: str) -> None:
    """The user has no socket left: no chat of theirs is open any more."""
    await app[REDIS].delete(open_key(user_id))


def open_read(user_id: str, other: str) -> Read:
    """Whether `user_id` has the chat with `other` open, as a `Read`."""
    return plain(lambda pipe: pipe.sismember(open_key(user_id), other), 1, lambda replies: bool(replies[0]))


async def has_open(app: web.Application, user_id: str, other: str) -> bool:
    return await read_one(app, open_read(user_id, other))
