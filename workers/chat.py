"""Chat persist jobs: a message's or a conversation's current cached state, version-guarded.

Once stored, a message's hash and its conversation's message set get the cache
TTL; a conversation's hash keeps none (its `seq` must not restart), while the
participants' chat lists get the TTL.
"""
from __future__ import annotations

import orjson

from mysocial.chat import cache, store
from mysocial.core.redis import from_hash
from workers import context
from workers.persist import persist


def load_message(r, message_id: str) -> dict | None:
    raw = r.hgetall(cache.message_key(message_id))
    return from_hash(raw) if raw else None


def load_conversation(r, conversation_id: str) -> dict | None:
    raw = r.hgetall(cache.conversation_key(conversation_id))
    return from_hash(raw) if raw else None


def persist_message(message_id: str) -> str:
    conv = context.get().redis.hget(cache.message_key(message_id), "conversationId")
    keys = (cache.message_key(message_id),) + ((cache.messages_key(orjson.loads(conv)),) if conv else ())
    return persist("message", message_id, load_message, store.save_message, keys)


def persist_conversation(conversation_id: str) -> str:
    users = context.get().redis.hget(cache.conversation_key(conversation_id), "participants")
    keys = tuple(cache.list_key(u) for u in orjson.loads(users)) if users else ()
    return persist("conversation", conversation_id, load_conversation, store.save_conversation, keys)
