"""The `messages` and `conversations` collections.

Message: the contract's fields plus `seq` (its place in the conversation,
1, 2, 3... as assigned by Redis) and `deletedFor` (ids of users who deleted it
for themselves). Conversation: `_id, participants` (the two user ids, sorted),
`senderId, receiverId` (who started it), `seq` (last assigned), `lastMessageId`,
`lastMessageAt` (ms), `createdAt`.

Messages and conversations are never removed, only marked, so a worker that
finds no cached state (evicted, or Redis lost) stores nothing rather than a
tombstone.
"""
from __future__ import annotations

from bson import ObjectId

from pymongo import IndexModel

from mysocial.core.mongo import SCAN_BATCH, find_live, from_mongo, live, oid, doc_upsert, Upsert

MESSAGES = "messages"
CONVERSATIONS = "conversations"
MESSAGE_IDS = ("_id", "conversationId", "senderId", "receiverId")
CONVERSATION_IDS = ("_id", "senderId", "receiverId", "lastMessageId")
INDEXES = {MESSAGES: [IndexModel([("conversationId", 1), ("seq", 1)])], CONVERSATIONS: [IndexModel("participants")]}


def pair(a: str, b: str) -> list[str]:
    return sorted((a, b))


async def find_message(db, message_id: str) -> dict | None:
    return await find_live(db[MESSAGES], message_id)


async def find_conversation(db, conversation_id: str) -> dict | None:
    return await find_live(db[CONVERSATIONS], conversation_id)


async def conversation_between(db, a: str, b: str) -> dict | None:
    found = await db[CONVERSATIONS].find_one(live({"participants": [oid(u) for u in pair(a, b)]}))
    return from_mongo(found)


async def conversations_of(db, user_id: str) -> list[tuple[str, int]]:
    """(conversationId, lastMessageAt ms) of every conversation `user_id` is in."""
    cursor = db[CONVERSATIONS].find(live({"participants": oid(user_id)}), {"_id": 1, "lastMessageAt": 1})
    return [(str(d["_id"]), int(d.get("lastMessageAt") or 1)) for d in await cursor.to_list(None)]


async def message_entries(db, conversation_id: str):
    """(messageId, seq) of a conversation's messages, streamed: rebuilds its Redis index."""
    async for d in db[MESSAGES].find(live({"conversationId": oid(conversation_id)}), {"_id": 1, "seq": 1}).batch_size(SCAN_BATCH):
        yield str(d["_id"]), int(d["seq"])


async def last_message(db, conversation_id: str) -> dict | None:
    docs = await db[MESSAGES].find(live({"conversationId": oid(conversation_id)})).sort("seq", -1).limit(1).to_list(1)
    return from_mongo(docs[0]) if docs else None


async def unread_for(db, conversation_id: str, user_id: str) -> list[tuple[int, str]]:
    """(seq, messageId) of messages to `user_id` that user has neither read nor deleted."""
    query = live({
        "conversationId": oid(conversation_id), "receiverId": oid(user_id), "isRead": False,
        "deleteForEveryone": {"$ne": True}, "deletedFor": {"$ne": user_id},
    })
    docs = await db[MESSAGES].find(query, {"_id": 1, "seq": 1}).to_list(None)
    return [(int(d["seq"]), str(d["_id"])) for d in docs]


def upsert_message(db, message_id: str, doc: dict | None, version: int) -> Upsert | None:
    """Messages are never deleted: nothing to store without a document."""
    return doc_upsert(db[MESSAGES], message_id, doc, version, MESSAGE_IDS) if doc else None


def upsert_conversation(db, conversation_id: str, doc: dict | None, version: int) -> Upsert | None:
    if doc is None:
        return None
    made = doc_upsert(db[CONVERSATIONS], conversation_id, doc, version, CONVERSATION_IDS)
    made.doc["participants"] = [ObjectId(u) for u in doc["participants"]]
    return made
