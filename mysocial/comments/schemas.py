"""Comment bodies, with the original's messages (src/features/comments/schemes/comment.ts)."""
from __future__ import annotations

import re

from marshmallow import fields, validate

from mysocial.core.answers import Out, answer, count, many, text
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


# Answers (mysocial.core.answers) -------------------------------------------------------------


class CommentDoc(Out):
    _id = text()
    postId = text()
    userId = text()
    username = text()
    avatarColor = text()
    profilePicture = text()
    comment = text()
    userTo = text()
    createdAt = text()


class CommentNames(Out):
    count = count()
    names = fields.List(fields.String(), required=True)


CommentAnswer = answer("CommentAnswer", comment=fields.Nested(CommentDoc, required=True))
CommentsAnswer = answer("CommentsAnswer", comments=many(CommentDoc))
CommentNamesAnswer = answer("CommentNamesAnswer", comments=fields.Nested(CommentNames, required=True))
SingleCommentAnswer = answer("SingleCommentAnswer", comments=fields.Nested(CommentDoc, required=True))
