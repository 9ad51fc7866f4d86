"""Session answers (the session routes take no body)."""
from __future__ import annotations

from marshmallow import fields

from mysocial.core.answers import Out, answer, count, many, text


class SessionDoc(Out):
    id = text()
    createdAt = text()
    lastUsedAt = text()
    userAgent = text()
    ip = text()
    current = fields.Boolean(required=True, metadata={"description": "the session of this request"})


SessionsAnswer = answer("SessionsAnswer", sessions=many(SessionDoc))
EndedAnswer = answer("EndedAnswer", ended=count())
