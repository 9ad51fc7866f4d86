from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from mysocial.core.answers import Out, answer, count, many, text
from mysocial.core.schemas import IMAGE_BODY, Body, ObjectIdString, boolean, longest, optional, string

REACTIONS = ("like", "love", "happy", "wow", "sad", "angry")
DELETE_TYPES = ("deleteForMe", "deleteForEveryone")


def id_field(label: str, *, required: bool = True) -> fields.String:
    """A canonical id (core.mongo.is_oid); optional ones may also be empty or null (old clients send '')."""
    invalid = f"Invalid {label.lower()}"
    if required:
        return string(required=True, validate=ObjectIdString(invalid))
    return optional(validate=ObjectIdString(invalid, allow_empty=True))


class SendSchema(Body):
    """As the original's addChatSchema (src/features/chat/schemes/chat.ts). The receiver's name,
    colour and picture are required there, so here; the message copies them from the receiver's
    profile, not from these."""

    LIMIT = IMAGE_BODY
    conversationId = id_field("Conversation id", required=False)
    receiverId = id_field("Receiver id")
    receiverUsername = string(required=True, validate=longest("Receiver username", 50))
    receiverAvatarColor = string(required=True, validate=longest("Receiver avatar color", 50))
    receiverProfilePicture = string(required=True, validate=longest("Receiver profile picture", 2000))
    body = optional(validate=longest("Message", 10_000))
    gifUrl = optional(validate=longest("Gif url", 2000))
    selectedImage = optional()
    isRead = boolean()

    @validates_schema
    def not_empty(self, data, **kwargs):
        if not ((data.get("body") or "").strip() or data.get("gifUrl") or data.get("selectedImage")):
            raise ValidationError("Message body, gif or image is required", "body")


def user_ref(label: str, required: bool = True):
    """A user id, or a username as the Chatty web client sends."""
    return string(required=required, min=1, max=50, messages={
        "any.required": f"{label} is a required field", "string.empty": f"{label} is a required field",
        "string.min": f"Invalid {label.lower()}", "string.max": f"Invalid {label.lower()}"})


class UsersSchema(Body):
    """`userOne`, `userTwo` (the original has no scheme for these routes)."""

    userOne = user_ref("User one")
    userTwo = user_ref("User two")


class RemoveUsersSchema(Body):
    """Until its chat list has loaded, the web client asks to remove a chat with no `userTwo`: the
    original answered 200 and removed nothing, and so does MySocial."""

    userOne = user_ref("User one")
    userTwo = optional(validate=longest("User two", 50))


class MarkReadSchema(Body):
    senderId = id_field("Sender id")
    receiverId = id_field("Receiver id")


class ChatReactionSchema(Body):
    conversationId = id_field("Conversation id")
    messageId = id_field("Message id")
    reaction = fields.String(
        allow_none=True,
        validate=validate.OneOf(REACTIONS, error="Invalid reaction"),
        error_messages={"invalid": "Reaction must be of type string", "null": "Reaction must be of type string"},
    )
    type = fields.String(
        required=True,
        validate=validate.OneOf(("add", "remove"), error="Type must be add or remove"),
        error_messages={"required": "Type is a required field", "invalid": "Type must be of type string",
                        "null": "Type must be of type string"},
    )

    @validates_schema
    def reaction_to_add(self, data, **kwargs):
        if data.get("type") == "add" and not data.get("reaction"):
            raise ValidationError("Reaction is a required field", "reaction")


# Answers (mysocial.core.answers) -------------------------------------------------------------


class MessageReaction(Out):
    senderName = text()
    type = text()


class MessageDoc(Out):
    _id = text()
    conversationId = text()
    receiverId = text()
    receiverUsername = text()
    receiverAvatarColor = text()
    receiverProfilePicture = text()
    senderUsername = text()
    senderId = text()
    senderAvatarColor = text()
    senderProfilePicture = text()
    body = text()
    isRead = fields.Boolean(required=True)
    gifUrl = text()
    selectedImage = text()
    reaction = many(MessageReaction)
    deleteForMe = fields.Boolean(required=True)
    deleteForEveryone = fields.Boolean(required=True)
    seq = count()
    createdAt = text()


class ConversationItem(MessageDoc):
    unreadCount = count()


SentAnswer = answer("SentAnswer", conversationId=text())
ConversationListAnswer = answer("ConversationListAnswer", list=many(ConversationItem))
MessagesAnswer = answer("MessagesAnswer", messages=many(MessageDoc))


class MessagesQuery(Out):
    before = fields.Integer(metadata={"minimum": 1, "description": "only messages before this sequence number"})
    limit = fields.Integer(metadata={"minimum": 1, "maximum": 100, "description": "how many (default 50)"})
