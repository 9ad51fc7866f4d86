"""Timeline answers: posts in the shape of `/post/all/:page`, in cursor pages (Link header)."""
from __future__ import annotations

from marshmallow import fields

from mysocial.core.answers import Out, answer, many
from mysocial.posts.schemas import PostDoc

TimelineAnswer = answer("TimelineAnswer", posts=many(PostDoc))


class TrendsQuery(Out):
    limit = fields.Integer(metadata={"minimum": 1, "maximum": 40, "description": "how many (default 20)"})
