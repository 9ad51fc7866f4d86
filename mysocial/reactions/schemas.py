"""Reaction bodies, with the original's messages (src/features/reactions/schemes/reactions.ts)."""
from __future__ import annotations

from marshmallow import validate

from mysocial.core.schemas import Body, ObjectIdString, obj, optional, string
from mysocial.posts.cache import REACTIONS


class ReactionSchema(Body):
    userTo = string(required=True, validate=ObjectIdString("Invalid userTo"),
                    messages={"any.required": "userTo is a required property"})
    postId = string(required=True, validate=ObjectIdString("Invalid post id"),
                    messages={"any.required": "postId is a required property"})
    type = string(required=True, validate=validate.OneOf(REACTIONS, error="Invalid reaction type"),
                  messages={"any.required": "Reaction type is a required property"})
    profilePicture = optional()
    previousReaction = optional()
    postReactions = obj()
