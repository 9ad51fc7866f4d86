"""Reaction bodies, with the original's messages (src/features/reactions/schemes/reactions.ts)."""
from __future__ import annotations

from marshmallow import fields, validate

from mysocial.core.answers import Out, answer, count, many, text
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


# Answers (mysocial.core.answers) -------------------------------------------------------------


class ReactionDoc(Out):
    _id = text()
    postId = text()
    type = fields.String(required=True, metadata={"enum": list(REACTIONS)})
    username = text()
    avataColor = text()  # (sic): the contract's field name
    profilePicture = text()
    userTo = text()
    userId = text()
    createdAt = text()


ReactionsAnswer = answer("ReactionsAnswer", reactions=many(ReactionDoc), count=count())
SingleReactionAnswer = answer("SingleReactionAnswer", reactions=fields.Dict(required=True), count=count())
UserReactionsAnswer = answer("UserReactionsAnswer", reactions=many(ReactionDoc))
