"""JSON in and out: orjson responses and marshmallow-validated bodies."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson
from aiohttp import web
from marshmallow import Schema, ValidationError

from mysocial.core.errors import BadRequest
from mysocial.core.mongo import is_oid


def json_response(data: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json", headers=headers)


def first_error(messages: dict | list | str) -> str:
    """The first failing rule's message, in field declaration order."""
    while isinstance(messages, (dict, list)):
        if not messages:
            return "Invalid request"
        messages = next(iter(messages.values())) if isinstance(messages, dict) else messages[0]
    return str(messages)


@lru_cache(maxsize=None)
def _instance(schema_class: type[Schema]) -> Schema:
    return schema_class()


def validate(schema: Schema | type[Schema], data: Any) -> dict:
    """Load `data` with `schema` (a class is instantiated once and reused: building one per
    request cost ~70 µs); the first failing rule is a 400."""
    if isinstance(schema, type):
        schema = _instance(schema)
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object")
    try:
        return schema.load(data)
    except ValidationError as exc:
        ordered = {name: exc.messages[name] for name in schema.fields if name in exc.messages}
        raise BadRequest(first_error(ordered or exc.messages)) from None


async def body(request: web.Request, schema: Schema | type[Schema]) -> dict:
    """Parse and validate the JSON body; any failure is a 400 in the contract's shape."""
    raw = await request.read()
    try:
        data = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise BadRequest("Request body is not valid JSON") from None
    return validate(schema, data)


def oid_param(request: web.Request, name: str, message: str = "Invalid id") -> str:
    """A path parameter that must be an ObjectId hex string (400 otherwise)."""
    value = request.match_info[name]
    if not is_oid(value):
        raise BadRequest(message)
    return value
