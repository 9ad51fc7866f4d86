"""Response schemas: what the routes answer, for the OpenAPI document (mysocial.core.openapi).

Answers are documented, not produced, by these schemas (handlers build plain dicts and orjson
encodes them: a marshmallow dump per response would cost more than the rest of a read). The
OpenAPI tests fuzz every route and check each answer against its schema, so the two cannot
drift apart unnoticed. Answers may carry more properties than documented (`unknown = INCLUDE`).
"""
from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields


class Out(Schema):
    class Meta:
        unknown = INCLUDE


class ErrorSchema(Out):
    """The contract's error shape."""

    message = fields.String(required=True)
    statusCode = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": ["error"]})


class MessageSchema(Out):
    message = fields.String(required=True)


def answer(name: str, **more: fields.Field) -> type[Schema]:
    """`{message, **more}`: the shape of nearly every answer."""
    return Out.from_dict({"message": fields.String(required=True), **more}, name=name)


def text() -> fields.String:
    return fields.String(required=True)


def maybe_text() -> fields.String:
    return fields.String(allow_none=True)


def count() -> fields.Integer:
    return fields.Integer(required=True)


def nested(schema: type[Schema], **kwargs) -> fields.Nested:
    return fields.Nested(schema, **kwargs)


def many(schema: type[Schema]) -> fields.List:
    return fields.List(fields.Nested(schema), required=True)


def ids() -> fields.List:
    return fields.List(fields.String(), required=True)
