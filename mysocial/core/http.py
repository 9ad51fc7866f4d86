"""JSON in and out: orjson responses and marshmallow-validated bodies."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson
from aiohttp import web
from marshmallow import Schema, ValidationError

from mysocial.core.errors import ApiError, BadRequest
from mysocial.core.mongo import is_oid
from mysocial.core.schemas import SMALL_BODY


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


TOO_LARGE = "Request body is too large"
NOT_JSON = "Request body must be JSON (Content-Type: application/json)"


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed `limit` (by its
    Content-Length before a byte is read, else while it streams in)."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(TOO_LARGE, 413)
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(256 * 1024):
        size += len(chunk)
        if size > limit:
            raise ApiError(TOO_LARGE, 413)
        chunks.append(chunk)
    return b"".join(chunks)


async def body(request: web.Request, schema: Schema | type[Schema]) -> dict:
    """Parse and validate the JSON body; any failure is a 4xx in the contract's shape.

    Only `application/json` is parsed (415 otherwise: a form or `text/plain` post from another
    site must not pass for JSON), and only up to the schema's `LIMIT` bytes (413). Handlers authenticate
    before they call this, so a large body is read only for a signed-in caller."""
    if request.body_exists and request.content_type != "application/json":
        raise ApiError(NOT_JSON, 415)
    raw = await read_limited(request, getattr(schema, "LIMIT", SMALL_BODY))
    try:
        data = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise BadRequest("Request body is not valid JSON") from None
    return validate(schema, data)


def page_number(request: web.Request) -> int:
    """The `:page` path parameter of the Chatty page routes: 1 to 100,000."""
    page = digits(request.match_info["page"])
    if page is None or not 0 < page <= 100_000:
        raise BadRequest("Invalid page")
    return page


def query_int(request: web.Request, name: str, default: int | None, low: int, high: int) -> int | None:
    """An integer query parameter within [low, high]; `default` when absent, 400 otherwise."""
    raw = request.query.get(name)
    if raw is None:
        return default
    value = digits(raw)
    if value is None or not low <= value <= high:
        raise BadRequest(f"Invalid {name}")
    return value


def digits(raw: str | None) -> int | None:
    """`raw` as a non-negative integer if it is ASCII digits only (`²` and `①` are digits to
    str.isdigit, and int() refuses them), else None."""
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    return int(raw)


def id_param(request: web.Request, name: str, label: str) -> str:
    """A path parameter that must be a canonical id (`core.mongo.is_oid`): 400 `Invalid <label>` otherwise."""
    value = request.match_info[name]
    if not is_oid(value):
        raise BadRequest(f"Invalid {label}")
    return value
