"""Pages of a post list for one reader, newest first: from Redis in bounded steps (the
library's post_page), or, while the posts group is rebuilt, MongoDB's merged with what Redis
holds so far."""
from __future__ import annotations

from aiohttp import web

from mysocial.core import functions, indexes, reads
from mysocial.core.appkeys import BATCH, MONGO
from mysocial.core.functions import Refused
from mysocial.core.mongo import oid
from mysocial.core.reads import Read, read_all, read_one
from mysocial.graph import cache as graph
from mysocial.moderation import cache as moderation
from mysocial.posts import store
from mysocial.posts.cache import AUDIENCE, COUNTS, INDEX, LISTS, POST, SUMS


def _listing(listing: str) -> tuple[str, dict]:
    """A list's key and the same list as a MongoDB query."""
    if listing in LISTS:
        return LISTS[listing], {"all": {}, "images": store.WITH_IMAGE, "videos": store.WITH_VIDEO}[listing]
    return listing, {"userId": oid(listing.removeprefix("posts:user:"))}


SCAN_STEP = 2_000  # list entries one call of the library's page functions looks at (~2 ms of Redis)
SCAN_MAX = 10_000  # ... and one request in all: numbered pages reach the newest this many of a list


def _page_read(list_key: str, reader: str, skip: int, size: int, with_total: bool, partial: bool = False,
               start: int = 0, seen: int = 0) -> Read:
    keys = graph.reader_keys(reader)
    return reads.plain(lambda pipe: functions.call(
        pipe, "post_page", [list_key, AUDIENCE, COUNTS, *keys[:5], "complete:posts", *keys[5:], SUMS],
        {"reader": reader, "skip": skip, "size": size, "total": with_total, "partial": partial,
         "budget": SCAN_STEP, "start": start, "seen": seen}), 1,
        lambda replies: replies[0])


async def _scan(app: web.Application, list_key: str, reader: str, skip: int, size: int, with_total: bool,
                partial: bool = False) -> tuple[list[bytes], int] | Refused:
    """post_page over the newest SCAN_MAX entries of the list, SCAN_STEP at a time (other
    clients' commands run between the steps): the ids (with scores, `partial`) and the total."""
    found, total, start, seen = [], -1, 0, 0
    while True:
        answer = await read_one(app, _page_read(list_key, reader, skip, size - len(found) // (2 if partial else 1),
                                                with_total and not start, partial, start, seen))
        if isinstance(answer, Refused):
            return answer
        ids, counted, start, seen = answer
        found += ids
        if counted is not None:
            total = int(counted)
        if start is None or start >= SCAN_MAX:
            return found, total


def _sums_again(pipe) -> None:
    """Count the suspended and the limited users' Public posts again (posts:sums, for totals)."""
    functions.call(pipe, "posts_sums", [COUNTS, moderation.suspended_key, moderation.limited_key, SUMS])


async def page(app: web.Application, listing: str, reader: str, skip: int, size: int,
               with_total: bool = False) -> tuple[list[str], int]:
    """Ids of the posts `reader` may see in `listing` (a LISTS name or by_user(id)), newest first,
    among its newest SCAN_MAX; and (`with_total`) how many in all (-1 without)."""
    list_key, _ = _listing(listing)
    for _ in range(6):  # each refusal names one cause to fix: an index (of five) or the sums
        answer = await _scan(app, list_key, reader, skip, size, with_total)
        if not isinstance(answer, Refused):
            ids, total = answer
            return [i.decode() for i in ids], total
        if answer.reason == "stale":
            await app[BATCH].run(_sums_again)
            continue
        if answer.detail == INDEX.name:
            indexes.in_background(app, INDEX, False)
            return await _while_rebuilding(app, listing, reader, skip, size, with_total)
        await indexes.ensure_named(app, answer.detail)
    raise RuntimeError("the posts page kept being refused")


async def stored_view(app: web.Application, reader: str) -> tuple[set[str], set[str], set[str], list[str]]:
    """What a page read from MongoDB needs of its reader, in one round trip: whom they must not
    see (graph.hidden), whom they follow, the limited users, and the posts deleted lately
    (whose tombstones MongoDB may not have yet)."""
    hidden, following, limited, gone = await read_all(
        app, graph.hidden(reader), graph.following_set(reader), graph.limited(),
        reads.plain(lambda pipe: pipe.zrange(POST.gone, 0, -1), 1, lambda replies: [m.decode() for m in replies[0]]))
    return hidden, set(following), limited, gone


async def _while_rebuilding(app: web.Application, listing: str, reader: str, skip: int, size: int,
                            with_total: bool) -> tuple[list[str], int]:
    """A page while the posts group is rebuilt: MongoDB's newest posts merged with what Redis holds
    so far, which has every post written since Redis was lost (MongoDB may not have them yet).
    The top `skip + size` of the union is within the union of each side's top `skip + size`."""
    list_key, query = _listing(listing)
    want = min(skip + size, SCAN_MAX)
    hidden, following, limited, gone = await stored_view(app, reader)
    db = app[MONGO]
    stored, everything = await store.page(db, query, reader, hidden, following, limited, gone, want)
    partial = await _scan(app, list_key, reader, 0, want, False, partial=True)
    flat = [] if isinstance(partial, Refused) else partial[0]  # refused only if Redis was lost again
    cached = [(flat[i].decode(), float(flat[i + 1])) for i in range(0, len(flat), 2)]
    merged = dict(stored) | dict(cached)
    ids = [i for i, _ in sorted(merged.items(), key=lambda e: (e[1], e[0]), reverse=True)[skip:want]]
    if not with_total:
        return ids, -1
    known = {i for i, _ in stored}
    newer = [i for i, _ in cached if i not in known]
    total = await store.count(db, everything)
    if newer:  # those MongoDB has are counted already
        total += len(newer) - await store.count(db, {"$and": [everything, {"_id": {"$in": [oid(i) for i in newer]}}]})
    return ids, total
