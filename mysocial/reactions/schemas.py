from __future__ import annotations

from marshmallow import validate

from mysocial.core.schemas import Body, ObjectIdString, prop
from mysocial.posts.cache import REACTIONS


class ReactionSchema(Body):
    userTo = prop("userTo is a required property", ObjectIdString("Invalid userTo"))
    postId = prop("postId is a required property", ObjectIdString("Invalid post id"))
    type = prop("Reaction type is a required property", validate.OneOf(REACTIONS, error="Invalid reaction type"))
