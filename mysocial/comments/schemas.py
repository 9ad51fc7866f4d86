"""Comment bodies, with the original's messages (src/features/comments/schemes/comment.ts)."""
from __future__ import annotations

import re

from marshmallow import validate

from mysocial.core.schemas import Body, ObjectIdString, longest, number, optional, string


def comment_text():
    # Blank text is refused as Joi refuses '' (MySocial: whitespace only too).
    return string(required=True, validate=[validate.Regexp(r".*\S", flags=re.S, error='"comment" is not allowed to be empty'),
                                           longest("Comment", 5000)],
                  messages={"any.required": "comment is a required property"})


class CommentSchema(Body):
    userTo = string(required=True, validate=ObjectIdString("Invalid userTo"),
                    messages={"any.required": "userTo is a required property"})
    postId = string(required=True, validate=ObjectIdString("Invalid post id"),
                    messages={"any.required": "postId is a required property"})
    comment = comment_text()
    profilePicture = optional()
    commentsCount = number()


class EditCommentSchema(Body):
    comment = comment_text()
