"""What the chat routes do. Only a conversation's two participants can see or change anything in
it, and every event goes to those two users' sockets only."""
from __future__ import annotations

import logging
from datetime import datetime

import orjson
from aiohttp import web
from bson import ObjectId

import queues
from mysocial.auth import cache as auth_cache
from mysocial.chat import cache, store
from mysocial.chat.events import emit_chat_list, emit_views, view
from mysocial.core import pages, realtime
from mysocial.core.appkeys import MEDIA
from mysocial.core.errors import BadRequest, Forbidden, NotFound
from mysocial.core.functions import Refused
from mysocial.core.mongo import is_oid, now_iso
from mysocial.core.reads import read_all
from mysocial.core.writepath import Change, commit
from mysocial.graph import cache as graph
from mysocial.users import cache as users

log = logging.getLogger("mysocial.chat")
BLOCKED = "You cannot send messages to this user"
PAGE = 50
LIST_LIMIT = 100
READ_BATCH = 500
NO_MESSAGE = "Message not found"


def message_change(msg_id: str) -> Change:
    return Change("message", msg_id, (cache.message_key(msg_id),))


def own_conversation(conv: dict | None, me_id: str) -> dict:
    """The conversation if `me_id` is in it: 404 if there is none, 403 if it is someone else's."""
    if conv is None:
        raise NotFound("Conversation not found")
    if me_id not in conv["participants"]:
        raise Forbidden("You are not in this conversation")
    return conv


def new_message(msg_id: str, conv_id: str, sender: dict, receiver: dict, data: dict, image: str,
                is_read: bool, at: str) -> dict:
    return {
        "_id": msg_id, "conversationId": conv_id,
        "receiverId": receiver["_id"], "receiverUsername": receiver["username"],
        "receiverAvatarColor": receiver["avatarColor"], "receiverProfilePicture": receiver.get("profilePicture", ""),
        "senderId": sender["_id"], "senderUsername": sender["username"],
        "senderAvatarColor": sender["avatarColor"], "senderProfilePicture": sender.get("profilePicture", ""),
        "body": data.get("body") or "", "gifUrl": data.get("gifUrl") or "", "selectedImage": image,
        "isRead": is_read, "reaction": [], "deleteForMe": False, "deleteForEveryone": False, "deletedFor": [],
        "createdAt": at,
    }


def notification(msg: dict) -> dict:
    return {
        "userTo": msg["receiverId"], "userFrom": msg["senderId"], "notificationType": "messages",
        "message": f"{msg['senderUsername']} sent you a message", "entityId": msg["conversationId"],
        "createdItemId": msg["_id"], "gifUrl": msg["gifUrl"], "comment": "", "reaction": "", "post": "",
        "imgId": "", "imgVersion": "",
    }


async def send(app: web.Application, me_id: str, data: dict) -> str:
    """Send a message; the conversation's id."""
    receiver_id = data["receiverId"]
    if receiver_id == me_id:
        raise BadRequest("You cannot send a message to yourself")
    conv_id = data.get("conversationId") or None
    # Read at once when the receiver has this chat open (the server decides, not the client's isRead).
    receiver, sender, blocked, is_read, *conv = await read_all(
        app, users.card(app, receiver_id), users.card(app, me_id), graph.blocked_between(me_id, receiver_id),
        cache.open_read(receiver_id, me_id), *([cache.conversation_read(conv_id)] if conv_id else []))
    if receiver is None or sender is None:
        raise NotFound("User not found")
    if blocked:
        raise Forbidden(BLOCKED)
    new = False
    if conv_id:
        own_conversation(conv[0], me_id)
        if conv[0]["participants"] != store.pair(me_id, receiver_id):
            raise Forbidden("You are not in this conversation")
    msg_id = str(ObjectId())
    image = (await app[MEDIA].upload(data["selectedImage"], msg_id)).url if data.get("selectedImage") else ""
    try:
        if not conv_id:
            conv_id, new = await cache.conversation_id(app, me_id, receiver_id, create=str(ObjectId()))
        at = now_iso()
        msg = new_message(msg_id, conv_id, sender, receiver, data, image, is_read, at)
        note = queues.stamp(notification(msg))  # one notification however often the commit is tried
        score = int(datetime.fromisoformat(at).timestamp() * 1000)
        [sent] = await commit(
            app, lambda pipe: cache.send(pipe, cache.new_conversation(conv_id, me_id, receiver_id, at), msg, score, new),
            [message_change(msg_id), Change("conversation", conv_id, ())],
            jobs=None if is_read else lambda pipe: queues.notify(pipe, note),
        )
        if isinstance(sent, Refused):
            raise NotFound("Conversation not found")
    except BaseException:
        if image:
            await app[MEDIA].delete(msg_id)
        raise
    seq, *unread = sent
    msg["seq"] = seq
    await emit_views(app, "message received", msg)
    await emit_chat_list(app, msg, unread)
    return conv_id


async def conversation_list(app: web.Application, me_id: str) -> list[dict]:
    conv_ids = await cache.chat_list(app, me_id, LIST_LIMIT)
    convs = [c for c in await cache.conversations(app, conv_ids) if c.get("lastMessageId")]
    last = {m["_id"]: m for m in await cache.messages(app, [c["lastMessageId"] for c in convs])}
    counts = await cache.unread_counts(app, [c["_id"] for c in convs], me_id)
    return [view(last[c["lastMessageId"]], me_id) | {"unreadCount": n}
            for c, n in zip(convs, counts) if c["lastMessageId"] in last]


async def messages_with(app: web.Application, me_id: str, other: str, before: int | None, limit: int) -> list[dict]:
    """The newest `limit` messages (before the sequence number `before`), oldest first."""
    if other == me_id:
        raise BadRequest("Invalid receiver id")
    conv_id, _ = await cache.conversation_id(app, me_id, other)
    conv = await cache.conversation(app, conv_id) if conv_id else None
    if conv is None:
        return []
    high = int(conv.get("seq", 0)) if before is None else min(int(conv.get("seq", 0)), before - 1)
    ids = await cache.window(app, conv_id, max(1, high - limit + 1), high)
    found = sorted(await cache.messages(app, ids), key=lambda m: m["seq"])
    return [view(m, me_id) for m in found]


async def messages_page(app: web.Application, me_id: str, other: str, at: pages.Cursor) -> tuple[list[dict], list[str]]:
    """A cursor page of the messages with `other`, newest first, and the ids it spans."""
    if other == me_id:
        raise BadRequest("Invalid receiver id")
    conv_id, _ = await cache.conversation_id(app, me_id, other)
    if conv_id is None:
        return [], []
    ids = await pages.ids(app, cache.messages_key(conv_id), cache.messages_index(conv_id), at)
    return [view(m, me_id) for m in await cache.messages(app, ids)], ids


async def _resolve_user(app: web.Application, value: str) -> dict | None:
    """A user by id or by username (the Chatty web client sends usernames here)."""
    if is_oid(value):
        return await users.get(app, value)
    auth_id = await auth_cache.id_by_username(app, value)
    auth = await auth_cache.get(app, auth_id) if auth_id else None
    return await users.get(app, auth["userId"]) if auth else None


async def chat_users(app: web.Application, me_id: str, data: dict, is_open: bool) -> None:
    """Record that I have (or no longer have) the chat with the other user open."""
    if not data.get("userTwo"):
        return  # nothing to remove (the web client, before its chat list has loaded)
    one, two = await _resolve_user(app, data["userOne"]), await _resolve_user(app, data["userTwo"])
    if one is None or two is None:
        raise NotFound("User not found")
    if one["_id"] == two["_id"]:
        raise BadRequest("Invalid user two")
    if me_id not in (one["_id"], two["_id"]):
        raise Forbidden("You can only open or close your own chats")
    me, other = (one, two) if one["_id"] == me_id else (two, one)
    if is_open and await graph.between(app, me["_id"], other["_id"]):
        raise Forbidden(BLOCKED)
    # Only "I have the chat with `other` open" is recorded, whatever the order of the two.
    await cache.set_open(app, me["_id"], other["_id"], is_open)
    entries = [{"userOne": a["username"], "userTwo": b["username"]}
               for a, b in ((me, other), (other, me)) if await cache.has_open(app, a["_id"], b["_id"])]
    await realtime.emit_to(app, "add chat users", entries, [me["_id"], other["_id"]])


async def _emit_last(app: web.Application, conversation_id: str, event: str | None = None) -> None:
    conv = await cache.conversation(app, conversation_id)
    last = await cache.message(app, conv["lastMessageId"]) if conv and conv.get("lastMessageId") else None
    if last is not None:
        if event:
            await emit_views(app, event, last)
        await emit_chat_list(app, last)


async def mark_read(app: web.Application, me_id: str, sender_id: str, receiver_id: str) -> None:
    """Marks the messages sent to me in my conversation with the other of the two."""
    if me_id not in (sender_id, receiver_id):
        raise Forbidden("You are not in this conversation")
    other = receiver_id if sender_id == me_id else sender_id
    if other == me_id:
        raise BadRequest("Invalid receiver id")
    conv_id, _ = await cache.conversation_id(app, me_id, other)
    if conv_id is None or await cache.conversation(app, conv_id) is None:
        raise NotFound("Conversation not found")
    ids = await cache.unread_ids(app, conv_id, me_id)
    for start in range(0, len(ids), READ_BATCH):
        batch = ids[start:start + READ_BATCH]
        await cache.messages(app, batch)  # fills what expired: only cached messages are flipped
        await commit(app, lambda pipe: cache.mark_read(pipe, conv_id, me_id, batch), [message_change(m) for m in batch])
    await _emit_last(app, conv_id, "message read")


async def react(app: web.Application, me: dict, data: dict) -> None:
    conv = own_conversation(await cache.conversation(app, data["conversationId"]), me["userId"])
    other = next(p for p in conv["participants"] if p != me["userId"])
    if await graph.between(app, me["userId"], other):
        raise Forbidden(BLOCKED)
    msg = await cache.message(app, data["messageId"])
    if msg is None or msg["conversationId"] != conv["_id"]:
        raise NotFound(NO_MESSAGE)
    if msg.get("deleteForEveryone"):
        raise BadRequest("This message was deleted")
    [reactions] = await commit(
        app, lambda pipe: cache.react(pipe, msg["_id"], me["username"], data["type"], data.get("reaction") or ""),
        [message_change(msg["_id"])])
    if isinstance(reactions, Refused):
        raise NotFound(NO_MESSAGE)
    await emit_views(app, "message reaction", msg | {"reaction": orjson.loads(reactions)})


async def delete(app: web.Application, me_id: str, message_id: str, pair: list[str], kind: str) -> None:
    if me_id not in pair:
        raise Forbidden("You are not in this conversation")
    msg = await cache.message(app, message_id)
    if msg is None or sorted(pair) != store.pair(msg["senderId"], msg["receiverId"]):
        raise NotFound(NO_MESSAGE)
    if kind == "deleteForEveryone" and msg["senderId"] != me_id:
        raise Forbidden("Only the sender can delete a message for everyone")
    [done] = await commit(app, lambda pipe: cache.delete(pipe, msg, me_id, kind), [message_change(message_id)])
    if isinstance(done, Refused):
        raise NotFound(NO_MESSAGE)
    if kind == "deleteForEveryone" and msg.get("selectedImage"):
        try:
            await app[MEDIA].delete(message_id)
        except Exception:
            log.warning("could not delete the image of message %s", message_id, exc_info=True)
    updated = await cache.message(app, message_id)
    if updated is not None:
        await emit_views(app, "message read", updated)
    await _emit_last(app, msg["conversationId"])
