from __future__ import annotations

import re

from marshmallow import validate

from mysocial.core.schemas import Body, ObjectIdString, prop


def comment_text():
    return prop("comment is a required property",
                validate.Regexp(r".*\S", flags=re.S, error="Comment property is not allowed to be empty"),
                validate.Length(max=5000, error="Comment is too long"),
                invalid="Comment must be of type string")


class CommentSchema(Body):
    userTo = prop("userTo is a required property", ObjectIdString("Invalid userTo"))
    postId = prop("postId is a required property", ObjectIdString("Invalid post id"))
    comment = comment_text()


class EditCommentSchema(Body):
    comment = comment_text()
