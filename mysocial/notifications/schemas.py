"""Notification answers (the notification routes take no body)."""
from __future__ import annotations

from marshmallow import fields

from mysocial.core.answers import Out, answer, many, text


class Sender(Out):
    profilePicture = text()
    username = text()
    avatarColor = text()
    uId = text()


class NotificationDoc(Out):
    _id = text()
    userTo = text()
    userFrom = fields.Nested(Sender, required=True)
    message = text()
    notificationType = fields.String(required=True, metadata={"enum": ["comments", "reactions", "follows", "messages", "moderation"]})
    entityId = text()
    createdItemId = text()
    comment = text()
    reaction = text()
    post = text()
    imgId = text()
    imgVersion = text()
    gifUrl = text()
    read = fields.Boolean(required=True)
    createdAt = text()


NotificationsAnswer = answer("NotificationsAnswer", notifications=many(NotificationDoc))
