"""Private chat: send, conversation list, messages, read, react, delete, who has the chat open.

Only a conversation's two participants can see or change anything in it, and
every event goes to those two users' sockets only.
"""
from __future__ import annotations

from aiohttp import web

from mysocial.chat import service
from mysocial.chat.schemas import (
    DELETE_TYPES, ChatReactionSchema, ConversationListAnswer, MarkReadSchema, MessagesAnswer, MessagesQuery,
    RemoveUsersSchema, SendSchema, SentAnswer, UsersSchema,
)
from mysocial.core import pages, security
from mysocial.core.errors import BadRequest
from mysocial.core.http import body, id_param, json_response, query_int
from mysocial.core.openapi import doc
from mysocial.core.pages import CursorQuery

MAX_PAGE = 100
routes = web.RouteTableDef()


@routes.post("/chat/message")
@doc("Send a message", body=SendSchema, answer=SentAnswer, errors=(404,))
async def send_message(request: web.Request) -> web.Response:
    me = security.me(request)
    conv_id = await service.send(request.app, me["userId"], await body(request, SendSchema))
    return json_response({"message": "Message added", "conversationId": conv_id})


@routes.get("/chat/message/conversation-list")
@doc("My conversations, last message first, with unread counts", answer=ConversationListAnswer)
async def conversation_list(request: web.Request) -> web.Response:
    items = await service.conversation_list(request.app, security.me(request)["userId"])
    return json_response({"message": "User conversation list", "list": items})


@routes.get("/conversations/{receiverId}/messages")
@doc("Messages with a user, newest first, in cursor pages (Link header)", answer=MessagesAnswer, query=CursorQuery)
async def messages_page(request: web.Request) -> web.Response:
    me_id = security.me(request)["userId"]
    at = pages.cursor(request)
    found, ids = await service.messages_page(request.app, me_id, id_param(request, "receiverId", "receiver id"), at)
    return json_response({"message": "User chat messages", "messages": found}, headers=pages.link(request, ids, at))


@routes.get("/chat/message/user/{receiverId}")
@doc("Messages with a user, oldest first (the newest `limit`, or those `before` a sequence number)",
     answer=MessagesAnswer, query=MessagesQuery)
async def user_messages(request: web.Request) -> web.Response:
    """The newest `limit` (default 50) messages, oldest first; `?before=<seq>` pages back."""
    me_id = security.me(request)["userId"]
    other = id_param(request, "receiverId", "receiver id")
    before = query_int(request, "before", None, 1, 2**53)
    limit = query_int(request, "limit", service.PAGE, 1, MAX_PAGE)
    found = await service.messages_with(request.app, me_id, other, before, limit)
    return json_response({"message": "User chat messages", "messages": found})


@routes.post("/chat/message/add-chat-users")
@doc("I have the chat with a user open", body=UsersSchema, errors=(404,))
async def add_chat_users(request: web.Request) -> web.Response:
    return await _chat_users(request, UsersSchema, True, "Users added")


@routes.post("/chat/message/remove-chat-users")
@doc("I closed the chat with a user (without userTwo: nothing to do)", body=RemoveUsersSchema, errors=(404,))
async def remove_chat_users(request: web.Request) -> web.Response:
    return await _chat_users(request, RemoveUsersSchema, False, "Users removed")


async def _chat_users(request: web.Request, schema, is_open: bool, message: str) -> web.Response:
    await service.chat_users(request.app, security.me(request)["userId"], await body(request, schema), is_open)
    return json_response({"message": message})


@routes.put("/chat/message/mark-as-read")
@doc("Mark the messages sent to me in a conversation as read", body=MarkReadSchema, errors=(404,))
async def mark_as_read(request: web.Request) -> web.Response:
    """Marks the messages sent to me in my conversation with the other of `senderId`, `receiverId`."""
    me_id = security.me(request)["userId"]
    data = await body(request, MarkReadSchema)
    await service.mark_read(request.app, me_id, data["senderId"], data["receiverId"])
    return json_response({"message": "Message marked as read"})


@routes.put("/chat/message/reaction")
@doc("Add or remove my reaction to a message", body=ChatReactionSchema, errors=(404,))
async def reaction(request: web.Request) -> web.Response:
    me = security.me(request)
    await service.react(request.app, me, await body(request, ChatReactionSchema))
    return json_response({"message": "Message reaction added"})


@routes.delete("/chat/message/mark-as-deleted/{messageId}/{senderId}/{receiverId}/{type}")
@doc("Delete a message for me, or (the sender) for everyone", errors=(404,),
     params={"type": {"type": "string", "enum": ["deleteForMe", "deleteForEveryone"]}})
async def mark_as_deleted(request: web.Request) -> web.Response:
    me_id = security.me(request)["userId"]
    message_id = id_param(request, "messageId", "message id")
    pair = [id_param(request, "senderId", "sender id"), id_param(request, "receiverId", "receiver id")]
    kind = request.match_info["type"]
    if kind not in DELETE_TYPES:
        raise BadRequest("Invalid type")
    await service.delete(request.app, me_id, message_id, pair, kind)
    return json_response({"message": "Message marked as deleted"})
