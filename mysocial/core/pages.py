"""Cursor pages (Mastodon's convention) over a sorted-set index of ids by creation time.

`?limit=&max_id=&since_id=&min_id=`: `limit` 20 by default, 40 at most; `max_id`: only older
than that id; `since_id`: only newer (the newest `limit` of them); `min_id`: only newer, the
`limit` just after it (scrolling up without a gap). Items come newest first; the answer's
`Link` header names the next (`rel="next"`, older) and previous (`rel="prev"`, newer) pages.

The order is the index's: (score, id), so pages never overlap nor skip while items are added. A
cursor id no longer in the index (deleted) is placed by the time its ObjectId carries.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web
from bson import ObjectId
from marshmallow import fields
from yarl import URL

from mysocial.core import functions, indexes
from mysocial.core.answers import Out
from mysocial.core.appkeys import SETTINGS
from mysocial.core.errors import BadRequest
from mysocial.core.mongo import is_oid
from mysocial.core.reads import Read, plain, read_one

DEFAULT_LIMIT = 20
MAX_LIMIT = 40
BOUNDS = ("max_id", "since_id", "min_id")


def limit_field() -> fields.Integer:
    return fields.Integer(metadata={"minimum": 1, "maximum": 9999,
                                    "description": "how many (default 20; more than 40 is taken as 40)"})


class CursorQuery(Out):
    limit = limit_field()
    max_id = fields.String(metadata={"pattern": "^[0-9a-f]{24}$", "description": "older than this id"})
    since_id = fields.String(metadata={"pattern": "^[0-9a-f]{24}$", "description": "newer than this id (the newest)"})
    min_id = fields.String(metadata={"pattern": "^[0-9a-f]{24}$", "description": "newer than this id (just after it)"})


@dataclass(frozen=True)
class Cursor:
    limit: int = DEFAULT_LIMIT
    max_id: str | None = None
    since_id: str | None = None
    min_id: str | None = None


def asked(request: web.Request) -> bool:
    """Whether the request names a cursor (a list that answers without one keeps its old shape)."""
    return any(name in request.query for name in ("limit", *BOUNDS))


def cursor(request: web.Request) -> Cursor:
    """The cursor of the request's query; 400 in the contract's shape for a bad one."""
    query = request.query
    for name in ("limit", *BOUNDS):
        if len(query.getall(name, ())) > 1:
            raise BadRequest(f"Invalid {name}")
    raw = query.get("limit")
    if raw is None:
        limit = DEFAULT_LIMIT
    elif raw.isascii() and raw.isdigit() and len(raw) <= 4 and int(raw) > 0:
        limit = min(int(raw), MAX_LIMIT)
    else:
        raise BadRequest("Invalid limit")
    bounds = {}
    for name in BOUNDS:
        value = query.get(name)
        if value is not None and not is_oid(value):
            raise BadRequest(f"Invalid {name}")
        bounds[name] = value
    return Cursor(limit, **bounds)


def place(bound: str | None) -> float | None:
    """Where an id no longer listed would be: the end of the second its ObjectId was made in."""
    return ObjectId(bound).generation_time.timestamp() * 1000 + 999 if bound else None


def page(index: str, marker: str, at: Cursor) -> Read:
    """The ids of one page of `index` (complete while `marker` exists), as a `Read` whose value is
    the ids or a `Refused` (incomplete)."""
    named = {"limit": at.limit, "max": at.max_id, "since": at.since_id, "min": at.min_id,
             "max_at": place(at.max_id), "since_at": place(at.since_id or at.min_id)}
    return plain(lambda pipe: functions.call(pipe, "cursor_page", [index, marker], named), 1,
                 lambda replies: replies[0] if isinstance(replies[0], functions.Refused)
                 else [m.decode() for m in replies[0]])


async def ids(app: web.Application, list_key: str, index: indexes.Index, at: Cursor) -> list[str]:
    """One page of ids of a plain index (`list_key`, complete while `index`'s marker exists),
    completing the index first if it must."""
    for _ in range(3):
        found = await read_one(app, page(list_key, index.marker, at))
        if not isinstance(found, functions.Refused):
            return found
        await indexes.ensure(app, index)
    raise RuntimeError(f"{index.name} kept being incomplete")


def link(request: web.Request, ids: list[str], at: Cursor, cut: str | None = None) -> dict:
    """The `Link` header of a page of `ids`: absolute URLs under API_URL (what a proxy in front
    answers on, whatever Host the request came with); none for an empty page, unless the list
    was `cut` (looked at up to that id): the page goes on past it."""
    if cut is None:
        if not ids:
            return {}
        oldest, newest = ids[-1], ids[0]
    elif at.min_id:
        oldest, newest = ids[-1] if ids else at.min_id, cut
    else:
        oldest, newest = cut, ids[0] if ids else at.max_id
    kept = {k: v for k, v in request.query.items() if k not in BOUNDS and k != "limit"}
    base = str(URL(request.app[SETTINGS].api_url.rstrip("/") + request.path).with_query({**kept, "limit": at.limit}))
    links = [f'<{base}&max_id={quote(oldest, safe="")}>; rel="next"']  # hex ids: as they are
    if newest:
        links.append(f'<{base}&min_id={quote(newest, safe="")}>; rel="prev"')
    return {"Link": ", ".join(links)}
