from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from mysocial.core.schemas import IMAGE_BODY, Body, ObjectIdString, flag, text

REACTIONS = ("like", "love", "happy", "wow", "sad", "angry")
DELETE_TYPES = ("deleteForMe", "deleteForEveryone")


def id_field(label: str, *, required: bool = True) -> fields.String:
    """A canonical id (core.mongo.is_oid); optional ones may also be empty or null (old clients send '')."""
    invalid = f"Invalid {label.lower()}"
    return fields.String(
        required=required,
        allow_none=not required,
        validate=ObjectIdString(invalid, allow_empty=not required),
        error_messages={"required": f"{label} is a required field", "null": f"{label} must be of type string",
                        "invalid": f"{label} must be of type string"},
    )


def nullable_text(label: str, max: int) -> fields.String:
    return fields.String(
        allow_none=True,
        validate=validate.Length(max=max, error=f"{label} is too long"),
        error_messages={"invalid": f"{label} must be of type string"},
    )


class SendSchema(Body):
    LIMIT = IMAGE_BODY
    conversationId = id_field("Conversation id", required=False)
    receiverId = id_field("Receiver id")
    # The receiver's name, colour and picture are taken from their profile, not
    # from these (accepted for old clients).
    receiverUsername = nullable_text("Receiver username", 50)
    receiverAvatarColor = nullable_text("Receiver avatar color", 50)
    receiverProfilePicture = nullable_text("Receiver profile picture", 2000)
    body = nullable_text("Message", 10_000)
    gifUrl = nullable_text("Gif url", 2000)
    selectedImage = fields.String(allow_none=True, error_messages={"invalid": "Selected image must be of type string"})
    isRead = flag("isRead")

    @validates_schema
    def not_empty(self, data, **kwargs):
        if not ((data.get("body") or "").strip() or data.get("gifUrl") or data.get("selectedImage")):
            raise ValidationError("Message body, gif or image is required", "body")


class UsersSchema(Body):
    """`userOne`, `userTwo`: user ids, or usernames as the Chatty web client sends them."""

    userOne = text("User one", min=1, max=50, invalid="Invalid user one")
    userTwo = text("User two", min=1, max=50, invalid="Invalid user two")


class MarkReadSchema(Body):
    senderId = id_field("Sender id")
    receiverId = id_field("Receiver id")


class ReactionSchema(Body):
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
