"""What each participant sees of a message, the chat's Socket.IO events, and the typing relay.

Every chat event goes to the rooms of the conversation's two participants only.
"""
from __future__ import annotations

from aiohttp import web

from mysocial.graph import cache as graph
from mysocial.chat import cache
from mysocial.core import realtime
from mysocial.core.mongo import is_oid
from mysocial.core.reads import read_one

HIDDEN = {"body": "", "gifUrl": "", "selectedImage": ""}


def view(msg: dict, viewer: str) -> dict:
    """The message as `viewer` sees it: `deleteForMe` is theirs alone, and deleted content is gone."""
    out = {k: v for k, v in msg.items() if k != "deletedFor"}
    out["deleteForMe"] = viewer in (msg.get("deletedFor") or []) or bool(msg.get("deleteForEveryone"))
    out.setdefault("reaction", [])
    if out["deleteForMe"]:
        out |= HIDDEN
    return out


def participants(msg: dict) -> list[str]:
    return [msg["senderId"], msg["receiverId"]]


async def emit_views(app: web.Application, event: str, msg: dict) -> None:
    """Each participant gets their view; one emit when the two views are the same."""
    sender, receiver = participants(msg)
    views = view(msg, sender), view(msg, receiver)
    if views[0] == views[1]:
        await realtime.emit_to(app, event, views[0], [sender, receiver])
        return
    for user_id, seen in zip((sender, receiver), views):
        await realtime.emit_to(app, event, seen, [user_id])


async def emit_chat_list(app: web.Application, msg: dict, counts: list[int] | None = None) -> None:
    """`chat list` with `msg` and each participant's own unread count for that conversation
    (`counts`, in `participants` order, when the caller read them already)."""
    users = participants(msg)
    if counts is None:
        counts = await read_one(app, cache.unread_read(msg["conversationId"], users))
    for user_id, count in zip(users, counts):
        await realtime.emit_to(app, "chat list", view(msg, user_id) | {"unreadCount": count}, [user_id])


def register(app: web.Application) -> None:
    """Client events of the chat, on the authenticated socket session (see core.realtime)."""
    realtime.on_offline(app, lambda user_id: cache.close_all(app, user_id))

    async def typing(sid, user: dict, data=None):
        if not isinstance(data, dict) or not is_oid(data.get("receiverId")):
            return
        sender, receiver = user["userId"], data["receiverId"]
        if sender == receiver or await graph.between(app, sender, receiver):
            return
        payload = {"senderId": sender, "senderName": user["username"], "isTyping": data.get("isTyping") is True}
        await realtime.emit_to(app, "typing", payload, [receiver])

    realtime.on(app, "typing", typing)
