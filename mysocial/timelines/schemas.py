"""Timeline answers: posts in the shape of `/post/all/:page`, in cursor pages (Link header)."""
from __future__ import annotations

from mysocial.core.answers import Out, answer, many
from mysocial.core.pages import limit_field
from mysocial.posts.schemas import PostDoc

TimelineAnswer = answer("TimelineAnswer", posts=many(PostDoc))


class TrendsQuery(Out):
    limit = limit_field()
