"""The timelines: home (whom I follow, and mine), public (every Public post), all (everything I
may see), a profile's posts, and trends — cursor pages of the Redis lists, read on in MongoDB
where Redis does not hold them (below a home feed's floor, a feed not built, the posts lists
being rebuilt)."""
from __future__ import annotations

import time
from dataclasses import replace

from aiohttp import web

from mysocial.core import indexes
from mysocial.core.appkeys import BATCH, JOBS, MONGO
from mysocial.core.functions import Refused
from mysocial.core.pages import Cursor, place
from mysocial.core.reads import read_all, read_one
from mysocial.graph import cache as graph
from mysocial.posts import access, cache as posts, listing as post_pages, store
from mysocial.posts.store import Bound
from mysocial.sessions import cache as sessions
from mysocial.timelines import cache, trends
from mysocial.users import profiles

# the posts' ids, the posts (JSON fragments, or documents), and where the list was cut (pages.link)
Page = tuple[list[str], list, str | None]


async def home(app: web.Application, reader: str, at: Cursor) -> Page:
    index = cache.home_index(reader)
    return await _posts(app, reader, at, "home", cache.home_key(reader), index.marker, {"userId": None})


async def public(app: web.Application, reader: str, at: Cursor) -> Page:
    return await _posts(app, reader, at, "public", posts.ALL, posts.INDEX.marker, {"privacy": "Public"})


async def everything(app: web.Application, reader: str, at: Cursor) -> Page:
    return await _posts(app, reader, at, "all", posts.ALL, posts.INDEX.marker, {})


async def of_profile(app: web.Application, reader: str, user_id: str, at: Cursor) -> Page:
    await profiles.visible(app, reader, user_id)
    return await _posts(app, reader, at, "all", posts.by_user(user_id), posts.INDEX.marker,
                        {"userId": store.oid(user_id)})


async def _posts(app: web.Application, reader: str, at: Cursor, mode: str, list_key: str, marker: str,
                 listing: dict) -> Page:
    ids, stored, cut = await _page(app, reader, at, mode, list_key, marker, listing)
    if not stored:
        return *await posts.get_encoded(app, ids), cut
    found = await _recheck(app, reader, mode, await posts.get_many(app, ids))
    return [p["_id"] for p in found], found, cut


async def _recheck(app: web.Application, reader: str, mode: str, found: list[dict]) -> list[dict]:
    """Posts MongoDB chose, seen as Redis has them now: a privacy change, a takedown or a delete
    not persisted yet is not shown."""
    sees = await access.viewer(app, reader)
    following, limited = await read_all(app, graph.following_set(reader), graph.limited())
    following = set(following)

    def wanted(post: dict) -> bool:
        if not sees(post):
            return False
        if mode == "home":
            return post["userId"] == reader or post["userId"] in following
        return mode != "public" or (post.get("privacy") == "Public" and post["userId"] not in limited)

    return [p for p in found if wanted(p)]


async def trending(app: web.Application, reader: str, limit: int) -> list:
    """The best-ranked trending posts the reader may see (none while the posts lists are rebuilt)."""
    for _ in range(3):
        answer = await read_one(app, cache.page(trends.RANKED, posts.INDEX.marker, cache.floor_key(reader), reader,
                                                "public", Cursor(limit)))
        if not isinstance(answer, Refused):
            return (await posts.get_encoded(app, answer[0]))[1]
        if answer.detail == posts.INDEX.name:
            indexes.in_background(app, posts.INDEX, False)
            return []
        await indexes.ensure_named(app, answer.detail)
    raise RuntimeError("the trends page kept being refused")


async def _page(app: web.Application, reader: str, at: Cursor, mode: str, list_key: str, marker: str,
                listing: dict) -> tuple[list[str], bool, str | None]:
    """The page's ids; whether MongoDB chose some of them; and, when post_pages.SCAN_MAX entries of the
    list did not fill it, the last one looked at (the page goes on past it). `listing`: the same
    list as a MongoDB query (`userId: None`: the authors of the reader's home)."""
    found: list[str] = []

    def joined(more: list[str]) -> list[str]:  # steps go older, or newer for `min_id`
        return more + found if at.min_id else found + more

    looked = refusals = 0
    while refusals < 3:
        answer = await read_one(app, cache.page(list_key, marker, cache.floor_key(reader), reader, mode, at))
        if isinstance(answer, Refused):
            refusals += 1
            if answer.detail == posts.INDEX.name:  # the lists are rebuilt in the background meanwhile
                indexes.in_background(app, posts.INDEX, False)
                return joined(await _stored(app, reader, at, listing)), True, None
            if answer.detail == cache.home_index(reader).name:
                await _ask_build(app, reader)
                return joined(await _stored(app, reader, at, listing)), True, None
            await indexes.ensure_named(app, answer.detail)
            continue
        ids, floor, cut = answer
        if cut is not None:
            found, looked = joined(ids), looked + post_pages.SCAN_STEP
            if looked >= post_pages.SCAN_MAX:
                return found, False, cut
            at = replace(at, limit=at.limit - len(ids), **{"min_id" if at.min_id else "max_id": cut})
            continue
        if floor is None or len(ids) == at.limit and not at.min_id:
            return joined(ids), False, None
        return joined(await _below_floor(app, reader, at, listing, ids, _bound(floor))), True, None
    raise RuntimeError("the timeline page kept being refused")


async def _ask_build(app: web.Application, reader: str) -> None:
    """The reader is active from now; their feed is built by a job (one, however many reads)."""
    now_ms = time.time() * 1000
    first, _ = await app[BATCH].run(lambda pipe: (pipe.set(cache.queued_key(reader), 1, nx=True, ex=cache.QUEUED_S),
                                                  sessions.mark_active(pipe, reader, now_ms)))
    if first:
        await app[JOBS].transaction(lambda pipe: cache.rebuild(pipe, reader))


def _bound(raw: str) -> Bound:
    score, _, post_id = raw.partition(" ")
    return float(score), post_id


def _older(a: Bound, b: Bound) -> bool:
    return (a[0], a[1]) < (b[0], b[1])


async def _bounds(app: web.Application, at: Cursor) -> dict[str, Bound]:
    """Each cursor id with its creation time (ms) as the lists have it, or MongoDB; by its
    ObjectId's time for one deleted."""
    ids = [i for i in (at.max_id, at.since_id, at.min_id) if i]
    if not ids:
        return {}
    scores = await read_one(app, cache.bounds(ids))
    found = {}
    for post_id, score in zip(ids, scores):
        if score is None:  # not listed (the lists are being rebuilt, or it was deleted)
            stored = await store.find(app[MONGO], post_id)
            score = posts.ms(stored["createdAt"]) if stored else place(post_id)
        found[post_id] = (score, post_id)
    return found


async def _query(app: web.Application, reader: str, listing: dict) -> tuple[dict, tuple]:
    """The listing as a query, and what the visibility rule needs of the reader."""
    hidden, following, limited, gone = await post_pages.stored_view(app, reader)
    if "userId" in listing and listing["userId"] is None:  # the home: mine and whom I follow
        listing = {"userId": {"$in": [store.oid(u) for u in {reader, *following} - hidden]}}
    if listing.get("privacy") == "Public":
        listing = {**listing, "userId": {"$nin": [store.oid(u) for u in limited]}}
    return listing, (hidden, following, limited, gone)


async def _stored(app: web.Application, reader: str, at: Cursor, listing: dict) -> list[str]:
    """The whole page from MongoDB."""
    query, seen = await _query(app, reader, listing)
    bounds = await _bounds(app, at)
    above = bounds.get(at.min_id or at.since_id) if (at.min_id or at.since_id) else None
    return await store.keyset(app[MONGO], query, reader, *seen, at.limit, below=bounds.get(at.max_id),
                              above=above, ascending=bool(at.min_id))


async def _below_floor(app: web.Application, reader: str, at: Cursor, listing: dict, ids: list[str],
                       floor: Bound) -> list[str]:
    """A home page that reaches below the feed's floor: Redis has `ids` (all newer than the
    floor); the rest comes from MongoDB, from the floor down."""
    bounds = await _bounds(app, at)
    query, seen = await _query(app, reader, listing)
    below, to_below = floor, True
    if at.max_id and not _older(floor, bounds[at.max_id]):  # the bound is at or below the floor
        below, to_below = bounds[at.max_id], False
    if at.min_id:  # the `limit` just above the bound: MongoDB's part first, if the bound is below the floor
        bound = bounds[at.min_id]
        if not _older(bound, floor):
            return ids
        stored = await store.keyset(app[MONGO], query, reader, *seen, at.limit, below=below, to_below=to_below,
                                    above=bound, ascending=True)
        room = at.limit - len(stored)
        return (ids[max(0, len(ids) - room):] if room > 0 else []) + stored
    above = bounds.get(at.since_id) if at.since_id else None
    if above is not None and not _older(above, floor):
        return ids
    return ids + await store.keyset(app[MONGO], query, reader, *seen, at.limit - len(ids), below=below,
                                    to_below=to_below, above=above)
