"""Private chat: send, conversation list, messages, read, react, delete, who has the chat open.

Only a conversation's two participants can see or change anything in it, and
every event goes to those two users' sockets only.
"""
from __future__ import annotations

import logging
from datetime import datetime

import orjson
from aiohttp import web
from bson import ObjectId

import queues
from mysocial.core.openapi import doc
from mysocial.chat.schemas import ConversationListAnswer, MessagesAnswer, MessagesQuery, SentAnswer
from mysocial.auth import cache as auth_cache
from mysocial.blocks import cache as blocks
from mysocial.chat import cache, store
from mysocial.chat.events import emit_chat_list, emit_views, view
from mysocial.chat.schemas import DELETE_TYPES, ChatReactionSchema, MarkReadSchema, RemoveUsersSchema, SendSchema, UsersSchema
from mysocial.core import realtime, security
from mysocial.core.appkeys import BATCH, MEDIA
from mysocial.core.errors import BadRequest, Forbidden, NotFound
from mysocial.core.http import body, id_param, json_response, query_int
from mysocial.core.mongo import is_oid, now_iso
from mysocial.core.reads import read_all
from mysocial.core.writepath import Change, commit
from mysocial.users import cache as users

log = logging.getLogger("mysocial.chat")
routes = web.RouteTableDef()
BLOCKED = "You cannot send messages to this user"

PAGE = 50
MAX_PAGE = 100
LIST_LIMIT = 100
READ_BATCH = 500


def message_change(msg_id: str, conversation_id: str | None = None) -> Change:
    keys = (cache.message_key(msg_id),) + ((cache.messages_key(conversation_id),) if conversation_id else ())
    return Change("message", msg_id, keys)


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


@routes.post("/chat/message")
@doc("Send a message", body=SendSchema, answer=SentAnswer, errors=(404,))
async def send_message(request: web.Request) -> web.Response:
    me = security.me(request)
    data = await body(request, SendSchema)
    app = request.app
    me_id, receiver_id = me["userId"], data["receiverId"]
    if receiver_id == me_id:
        raise BadRequest("You cannot send a message to yourself")
    conv_id = data.get("conversationId") or None
    # Read at once when the receiver has this chat open (the server decides, not the client's isRead).
    receiver, sender, blocked, is_read, *conv = await read_all(
        app, users.card(app, receiver_id), users.card(app, me_id), blocks.blocked_between(me_id, receiver_id),
        cache.open_read(receiver_id, me_id), *([cache.conversation_read(conv_id)] if conv_id else []))
    if receiver is None or sender is None:
        raise NotFound("User not found")
    if blocked:
        raise Forbidden(BLOCKED)
    if conv_id:
        own_conversation(conv[0], me_id)
        if conv[0]["participants"] != store.pair(me_id, receiver_id):
            raise Forbidden("You are not in this conversation")
    msg_id = str(ObjectId())
    image = (await app[MEDIA].upload(data["selectedImage"], msg_id)).url if data.get("selectedImage") else ""
    try:
        if not conv_id:
            conv_id = await cache.conversation_id(app, me_id, receiver_id, create=str(ObjectId()))
            await cache.conversation(app, conv_id)  # a conversation only MongoDB still has is cached first
        at = now_iso()
        msg = new_message(msg_id, conv_id, sender, receiver, data, image, is_read, at)
        score = int(datetime.fromisoformat(at).timestamp() * 1000)
        [(seq, *unread)] = await commit(
            app[BATCH],
            lambda pipe: cache.send(pipe, cache.new_conversation(conv_id, me_id, receiver_id, at), msg, score),
            [message_change(msg_id, conv_id),
             Change("conversation", conv_id, (cache.list_key(me_id), cache.list_key(receiver_id)))],
            extra=None if is_read else lambda pipe: queues.notify(pipe, notification(msg)),
        )
    except BaseException:
        if image:
            await app[MEDIA].delete(msg_id)
        raise
    msg["seq"] = seq
    await emit_views(app, "message received", msg)
    await emit_chat_list(app, msg, unread)
    return json_response({"message": "Message added", "conversationId": conv_id})


@routes.get("/chat/message/conversation-list")
@doc("My conversations, last message first, with unread counts", answer=ConversationListAnswer)
async def conversation_list(request: web.Request) -> web.Response:
    me_id = security.me(request)["userId"]
    app = request.app
    conv_ids = await cache.chat_list(app, me_id, LIST_LIMIT)
    convs = [c for c in await cache.conversations(app, conv_ids) if c.get("lastMessageId")]
    last = {m["_id"]: m for m in await cache.messages(app, [c["lastMessageId"] for c in convs])}
    counts = await cache.unread_counts(app, [c["_id"] for c in convs], me_id)
    items = [view(last[c["lastMessageId"]], me_id) | {"unreadCount": n}
             for c, n in zip(convs, counts) if c["lastMessageId"] in last]
    return json_response({"message": "User conversation list", "list": items})


@routes.get("/chat/message/user/{receiverId}")
@doc("Messages with a user, oldest first (the newest `limit`, or those `before` a sequence number)", answer=MessagesAnswer, query=MessagesQuery)
async def user_messages(request: web.Request) -> web.Response:
    """The newest `limit` (default 50) messages, oldest first; `?before=<seq>` pages back."""
    me_id = security.me(request)["userId"]
    other = id_param(request, "receiverId", "receiver id")
    if other == me_id:
        raise BadRequest("Invalid receiver id")
    before = query_int(request, "before", None, 1, 2**53)
    limit = query_int(request, "limit", PAGE, 1, MAX_PAGE)
    app = request.app
    conv_id = await cache.conversation_id(app, me_id, other)
    conv = await cache.conversation(app, conv_id) if conv_id else None
    if conv is None:
        return json_response({"message": "User chat messages", "messages": []})
    high = int(conv.get("seq", 0)) if before is None else min(int(conv.get("seq", 0)), before - 1)
    ids = await cache.window(app, conv_id, max(1, high - limit + 1), high)
    found = sorted(await cache.messages(app, ids), key=lambda m: m["seq"])
    return json_response({"message": "User chat messages", "messages": [view(m, me_id) for m in found]})


async def resolve_user(app: web.Application, value: str) -> dict | None:
    """A user by id or by username (the Chatty web client sends usernames here)."""
    if is_oid(value):
        return await users.get(app, value)
    auth_id = await auth_cache.id_by_username(app, value)
    auth = await auth_cache.get(app, auth_id) if auth_id else None
    return await users.get(app, auth["userId"]) if auth else None


async def chat_users(request: web.Request, is_open: bool) -> None:
    me_id = security.me(request)["userId"]
    data = await body(request, UsersSchema if is_open else RemoveUsersSchema)
    if not data.get("userTwo"):
        return  # nothing to remove (the web client, before its chat list has loaded)
    app = request.app
    one, two = await resolve_user(app, data["userOne"]), await resolve_user(app, data["userTwo"])
    if one is None or two is None:
        raise NotFound("User not found")
    if one["_id"] == two["_id"]:
        raise BadRequest("Invalid user two")
    if me_id not in (one["_id"], two["_id"]):
        raise Forbidden("You can only open or close your own chats")
    me, other = (one, two) if one["_id"] == me_id else (two, one)
    if is_open and await blocks.between(app, me["_id"], other["_id"]):
        raise Forbidden(BLOCKED)
    # Only "I have the chat with `other` open" is recorded, whatever the order of the two.
    await cache.set_open(app, me["_id"], other["_id"], is_open)
    entries = [{"userOne": a["username"], "userTwo": b["username"]}
               for a, b in ((me, other), (other, me)) if await cache.has_open(app, a["_id"], b["_id"])]
    await realtime.emit_to(app, "add chat users", entries, [me["_id"], other["_id"]])


@routes.post("/chat/message/add-chat-users")
@doc("I have the chat with a user open", body=UsersSchema, errors=(404,))
async def add_chat_users(request: web.Request) -> web.Response:
    await chat_users(request, True)
    return json_response({"message": "Users added"})


@routes.post("/chat/message/remove-chat-users")
@doc("I closed the chat with a user (without userTwo: nothing to do)", body=RemoveUsersSchema, errors=(404,))
async def remove_chat_users(request: web.Request) -> web.Response:
    await chat_users(request, False)
    return json_response({"message": "Users removed"})


async def emit_last(app: web.Application, conversation_id: str, event: str | None = None) -> None:
    conv = await cache.conversation(app, conversation_id)
    last = await cache.message(app, conv["lastMessageId"]) if conv and conv.get("lastMessageId") else None
    if last is not None:
        if event:
            await emit_views(app, event, last)
        await emit_chat_list(app, last)


@routes.put("/chat/message/mark-as-read")
@doc("Mark the messages sent to me in a conversation as read", body=MarkReadSchema, errors=(404,))
async def mark_as_read(request: web.Request) -> web.Response:
    """Marks the messages sent to me in my conversation with the other of `senderId`, `receiverId`."""
    me_id = security.me(request)["userId"]
    data = await body(request, MarkReadSchema)
    app = request.app
    if me_id not in (data["senderId"], data["receiverId"]):
        raise Forbidden("You are not in this conversation")
    other = data["receiverId"] if data["senderId"] == me_id else data["senderId"]
    if other == me_id:
        raise BadRequest("Invalid receiver id")
    conv_id = await cache.conversation_id(app, me_id, other)
    if conv_id is None or await cache.conversation(app, conv_id) is None:
        raise NotFound("Conversation not found")
    ids = await cache.unread_ids(app, conv_id, me_id)
    for start in range(0, len(ids), READ_BATCH):
        batch = ids[start:start + READ_BATCH]
        await cache.messages(app, batch, for_write=True)
        await commit(app[BATCH], lambda pipe: cache.mark_read(pipe, conv_id, me_id, batch),
                     [message_change(m) for m in batch])
    await emit_last(app, conv_id, "message read")
    return json_response({"message": "Message marked as read"})


@routes.put("/chat/message/reaction")
@doc("Add or remove my reaction to a message", body=ChatReactionSchema, errors=(404,))
async def reaction(request: web.Request) -> web.Response:
    me = security.me(request)
    data = await body(request, ChatReactionSchema)
    app = request.app
    conv = own_conversation(await cache.conversation(app, data["conversationId"]), me["userId"])
    other = next(p for p in conv["participants"] if p != me["userId"])
    if await blocks.between(app, me["userId"], other):
        raise Forbidden(BLOCKED)
    msg = await cache.message_for_write(app, data["messageId"])
    if msg is None or msg["conversationId"] != conv["_id"]:
        raise NotFound("Message not found")
    if msg.get("deleteForEveryone"):
        raise BadRequest("This message was deleted")
    (reactions,) = await commit(
        app[BATCH],
        lambda pipe: cache.react(pipe, msg["_id"], me["username"], data["type"], data.get("reaction") or ""),
        [message_change(msg["_id"])],
    )
    if reactions is None:
        raise NotFound("Message not found")
    await emit_views(app, "message reaction", msg | {"reaction": orjson.loads(reactions)})
    return json_response({"message": "Message reaction added"})


@routes.delete("/chat/message/mark-as-deleted/{messageId}/{senderId}/{receiverId}/{type}")
@doc("Delete a message for me, or (the sender) for everyone", errors=(404,), params={"type": {"type": "string", "enum": ["deleteForMe", "deleteForEveryone"]}})
async def mark_as_deleted(request: web.Request) -> web.Response:
    me_id = security.me(request)["userId"]
    message_id = id_param(request, "messageId", "message id")
    pair = [id_param(request, "senderId", "sender id"), id_param(request, "receiverId", "receiver id")]
    kind = request.match_info["type"]
    if kind not in DELETE_TYPES:
        raise BadRequest("Invalid type")
    if me_id not in pair:
        raise Forbidden("You are not in this conversation")
    app = request.app
    msg = await cache.message_for_write(app, message_id)
    if msg is None or sorted(pair) != store.pair(msg["senderId"], msg["receiverId"]):
        raise NotFound("Message not found")
    if kind == "deleteForEveryone" and msg["senderId"] != me_id:
        raise Forbidden("Only the sender can delete a message for everyone")
    await commit(app[BATCH], lambda pipe: cache.delete(pipe, msg, me_id, kind), [message_change(message_id)])
    if kind == "deleteForEveryone" and msg.get("selectedImage"):
        try:
            await app[MEDIA].delete(message_id)
        except Exception:
            log.warning("could not delete the image of message %s", message_id, exc_info=True)
    updated = await cache.message(app, message_id)
    if updated is not None:
        await emit_views(app, "message read", updated)
    await emit_last(app, msg["conversationId"])
    return json_response({"message": "Message marked as deleted"})
