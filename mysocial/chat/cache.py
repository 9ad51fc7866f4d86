"""Chat in Redis (only this module knows these keys):

- `chat:msg:<messageId>` hash: one message (JSON fields, like every cached document).
- `chat:conv:<conversationId>` hash: `_id, participants, senderId, receiverId, seq`
  (last sequence number, HINCRBY), `lastMessageId, lastMessageAt` (ms), `createdAt`.
  No TTL: `seq` must never restart while the conversation lives. After a Redis loss it is
  filled from MongoDB together with its unread sets (the `missing` refusal's filler).
- `chat:conv:<conversationId>:msgs` sorted set: messageIds scored by `seq`; the index
  `chat:msgs:<conversationId>` (core.indexes).
- `chat:conv:<conversationId>:unread:<userId>` sorted set: messages to that user not yet
  read (nor deleted); its ZCARD is the unread count.
- `chat:pair:<userId>:<userId>` (ids sorted) -> conversationId, looked up in MongoDB on a miss.
- `chat:list:<userId>` sorted set: conversationIds scored by last message time (ms); the
  index of the same name.
- `chat:open:<userId>` set: users whose chat this user has open (a day's TTL).

Message hashes get the cache TTL once persisted; the indexes have none.
"""
from __future__ import annotations

from aiohttp import web

from mysocial.chat import store
from mysocial.core import cache, functions, indexes
from mysocial.core.appkeys import BATCH, MONGO
from mysocial.core.reads import Read, plain, read_all, read_one
from mysocial.core.redis import from_hash, prefixed, text, to_hash

OPEN_TTL = 24 * 3600
NO_GONE = "gone:conversation"  # conversations are never deleted: an empty set

MESSAGE = cache.kind("message", "chat:msg:", lambda app, mid: store.find_message(app[MONGO], mid))
message_key = MESSAGE.key
conversation_key = prefixed("chat:conv:")
list_key = prefixed("chat:list:")
open_key = prefixed("chat:open:")


def messages_key(conversation_id: str) -> str:
    return f"chat:conv:{conversation_id}:msgs"


def unread_key(conversation_id: str, user_id: str) -> str:
    return f"chat:conv:{conversation_id}:unread:{user_id}"


def pair_key(a: str, b: str) -> str:
    return "chat:pair:" + ":".join(store.pair(a, b))


def messages_index(conversation_id: str) -> indexes.Index:
    async def chunks(app: web.Application):
        async for rows in indexes.chunked(store.message_entries(app[MONGO], conversation_id)):
            yield indexes.merge(messages_key(conversation_id), MESSAGE.gone, [(mid, seq) for mid, seq in rows])

    return indexes.Index(f"chat:msgs:{conversation_id}", "chat messages", chunks)


def list_index(user_id: str) -> indexes.Index:
    async def chunks(app: web.Application):
        entries = await store.conversations_of(app[MONGO], user_id)
        yield indexes.merge(list_key(user_id), NO_GONE, [(conv_id, at) for conv_id, at in entries])

    return indexes.Index(list_key(user_id), "chat lists", chunks)


indexes.family("chat:msgs:", messages_index)
indexes.family("chat:list:", list_index)


# Conversations -------------------------------------------------------------

async def conversation_id(app: web.Application, a: str, b: str, create: str | None = None) -> tuple[str | None, bool]:
    """The conversation of users `a` and `b`, and whether it is new: with `create`, that id
    becomes theirs if they have none."""
    [found] = await app[BATCH].run(lambda pipe: pipe.get(pair_key(a, b)))
    if found:
        return text(found), False
    stored = await store.conversation_between(app[MONGO], a, b)
    candidate = stored["_id"] if stored else create
    if candidate is None:
        return None, False
    [previous] = await app[BATCH].run(lambda pipe: pipe.set(pair_key(a, b), candidate, nx=True, get=True))
    if previous:
        return text(previous), False
    return candidate, stored is None


async def _fill_conversation(app: web.Application, conversation_id: str) -> bool:
    """A conversation from MongoDB with its unread sets; False if there is none."""
    db = app[MONGO]
    doc = await store.find_conversation(db, conversation_id)
    if doc is None:
        return False
    newest = await store.last_message(db, conversation_id)
    if newest and newest["seq"] > doc.get("seq", 0):
        # The message was persisted before the conversation's own job ran.
        doc |= {"seq": newest["seq"], "lastMessageId": newest["_id"]}
    one, two = doc["participants"]
    unread = [[list(e) for e in await store.unread_for(db, conversation_id, u)] for u in (one, two)]
    keys = [conversation_key(conversation_id), unread_key(conversation_id, one), unread_key(conversation_id, two)]
    await app[BATCH].run(lambda pipe: functions.call(pipe, "chat_fill_conversation", keys, {"unread": unread},
                                                     *functions.flat(to_hash(doc))))
    return True


cache.filler("chat:conv:", _fill_conversation)


def conversation_read(conversation_id: str) -> Read:
    """The conversation (filled from MongoDB when Redis lost it), as a `Read`."""
    async def finish(app: web.Application, replies: list) -> dict | None:
        if replies[0]:
            return from_hash(replies[0])
        if not await _fill_conversation(app, conversation_id):
            return None
        [raw] = await app[BATCH].run(lambda pipe: pipe.hgetall(conversation_key(conversation_id)))
        return from_hash(raw) if raw else None

    return Read(lambda pipe: pipe.hgetall(conversation_key(conversation_id)), 1, finish)


async def conversation(app: web.Application, conversation_id: str) -> dict | None:
    return await read_one(app, conversation_read(conversation_id))


async def conversations(app: web.Application, conversation_ids: list[str]) -> list[dict]:
    """Several conversations in one round trip (and a fill for each one not cached)."""
    if not conversation_ids:
        return []
    found = await read_all(app, *(conversation_read(c) for c in conversation_ids))
    return [c for c in found if c is not None]


def new_conversation(conversation_id: str, sender: str, receiver: str, at: str) -> dict:
    return {"_id": conversation_id, "participants": store.pair(sender, receiver),
            "senderId": sender, "receiverId": receiver, "createdAt": at}


async def unread_counts(app: web.Application, conversation_ids: list[str], user_id: str) -> list[int]:
    return await app[BATCH].run(lambda pipe: [pipe.zcard(unread_key(c, user_id)) for c in conversation_ids])


def unread_read(conversation_id: str, user_ids: list[str]) -> Read:
    """Each user's unread count in one conversation, as a `Read`."""
    def queue(pipe) -> None:
        for user_id in user_ids:
            pipe.zcard(unread_key(conversation_id, user_id))

    return plain(queue, len(user_ids))


async def unread_ids(app: web.Application, conversation_id: str, user_id: str) -> list[str]:
    [found] = await app[BATCH].run(lambda pipe: pipe.zrange(unread_key(conversation_id, user_id), 0, -1))
    return [m.decode() for m in found]


async def chat_list(app: web.Application, user_id: str, limit: int) -> list[str]:
    """Conversation ids of `user_id`, most recent message first."""
    await indexes.ensure(app, list_index(user_id))
    [found] = await app[BATCH].run(lambda pipe: pipe.zrevrange(list_key(user_id), 0, limit - 1))
    return [m.decode() for m in found]


# Messages ------------------------------------------------------------------

async def message(app: web.Application, message_id: str) -> dict | None:
    return await cache.get(app, MESSAGE, message_id)


async def messages(app: web.Application, message_ids: list[str]) -> list[dict]:
    return await cache.get_many(app, MESSAGE, message_ids)


async def window(app: web.Application, conversation_id: str, low: int, high: int) -> list[str]:
    """Message ids with `low <= seq <= high`, in order."""
    if high < low:
        return []
    await indexes.ensure(app, messages_index(conversation_id))
    [found] = await app[BATCH].run(lambda pipe: pipe.zrangebyscore(messages_key(conversation_id), low, high))
    return [m.decode() for m in found]


# Writes (queued on a write-path transaction) ---------------------------------

def send(pipe, conv: dict, msg: dict, score: int, new: bool) -> None:
    """Queue the send: its result is [the message's sequence number, the sender's unread count,
    the receiver's] (a Refused while an existing conversation is not cached)."""
    conv_id, msg_id = conv["_id"], msg["_id"]
    keys = [conversation_key(conv_id), message_key(msg_id), messages_key(conv_id), list_key(msg["senderId"]),
            list_key(msg["receiverId"]), unread_key(conv_id, msg["receiverId"]), unread_key(conv_id, msg["senderId"])]
    named = {"id": msg_id, "conversation": conv_id, "score": score, "read": msg["isRead"], "new": new,
             "fields": len(conv)}
    functions.call(pipe, "chat_send", keys, named, *functions.flat(to_hash(conv)), *functions.flat(to_hash(msg)))


def mark_read(pipe, conversation_id: str, reader: str, message_ids: list[str]) -> None:
    keys = [unread_key(conversation_id, reader)] + [message_key(m) for m in message_ids]
    functions.call(pipe, "chat_mark_read", keys, {"ids": message_ids})


def react(pipe, message_id: str, sender_name: str, action: str, reaction: str) -> None:
    functions.call(pipe, "chat_react", [message_key(message_id)],
                   {"sender": sender_name, "action": action, "reaction": reaction})


def delete(pipe, msg: dict, caller: str, kind: str) -> None:
    conv_id = msg["conversationId"]
    keys = [message_key(msg["_id"]), unread_key(conv_id, caller), unread_key(conv_id, msg["receiverId"])]
    functions.call(pipe, "chat_delete", keys, {"caller": caller, "kind": kind, "id": msg["_id"]})


# Who has which chat open ---------------------------------------------------------

async def set_open(app: web.Application, user_id: str, other: str, is_open: bool) -> None:
    def queue(pipe) -> None:
        if is_open:
            pipe.sadd(open_key(user_id), other)
            pipe.expire(open_key(user_id), OPEN_TTL)
        else:
            pipe.srem(open_key(user_id), other)

    await app[BATCH].transaction(queue)


async def close_all(app: web.Application, user_id: str) -> None:
    """The user has no socket left: no chat of theirs is open any more."""
    await app[BATCH].run(lambda pipe: pipe.delete(open_key(user_id)))


def open_read(user_id: str, other: str) -> Read:
    """Whether `user_id` has the chat with `other` open, as a `Read`."""
    return plain(lambda pipe: pipe.sismember(open_key(user_id), other), 1, lambda replies: bool(replies[0]))


async def has_open(app: web.Application, user_id: str, other: str) -> bool:
    return await read_one(app, open_read(user_id, other))
