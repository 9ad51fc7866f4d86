"""Posts in Redis.

- `post:<id>` hash: the post, reaction counts flattened to integer fields
  `reactions.<kind>` and `commentsCount`, so they change by HINCRBY.
- The index `posts` (complete while `complete:posts` exists), rebuilt together: the sorted
  sets `posts`, `posts:images` (an image or a GIF), `posts:videos`, `posts:user:<userId>` of
  post ids by creation time (ms); `posts:audience` (post id -> `<authorId>:<privacy>`), so a
  page is filtered for its reader inside Redis without loading the posts; `posts:counts`
  (`<privacy>` and `<authorId>:<privacy>` -> how many), a reader's exact `totalPosts`. After a
  Redis loss one instance rebuilds it in the background (core.indexes) and pages are read from
  MongoDB meanwhile.

The index has no TTL (Redis must run with a `volatile-*` maxmemory policy); post hashes expire
once persisted.
"""
from __future__ import annotations

import orjson
from aiohttp import web

from mysocial.core import cache, functions, indexes, reads
from mysocial.core.appkeys import BATCH, MONGO
from mysocial.core.cache import ms
from mysocial.core.metrics import cache_result
from mysocial.core.reads import Read, read_one
from mysocial.moderation import cache as moderation
from mysocial.posts import store
from mysocial.users import cache as users

ALL = "posts"
IMAGES = "posts:images"
VIDEOS = "posts:videos"
AUDIENCE = "posts:audience"
COUNTS = "posts:counts"
SUMS = "posts:sums"  # the suspended and the limited users' Public posts (lua/posts.lua)
LISTS = {"all": ALL, "images": IMAGES, "videos": VIDEOS}
REACTIONS = ("like", "love", "happy", "wow", "sad", "angry")
COMMENTS_COUNT = "commentsCount"
REACTION_FIELD = "reactions."
ENCODED = "_json"  # the post's wire JSON without its counters (posts.lua's post_encode)


def by_user(user_id: str) -> str:
    return f"posts:user:{user_id}"


def flatten(post: dict) -> dict:
    """Wire form -> hash form: `reactions` becomes one integer field per kind."""
    out = {k: v for k, v in post.items() if k != "reactions"}
    if "reactions" in post:
        for kind in REACTIONS:
            out[REACTION_FIELD + kind] = int((post["reactions"] or {}).get(kind, 0))
    return out


def unflatten(flat: dict) -> dict:
    out = {k: v for k, v in flat.items() if not k.startswith(REACTION_FIELD) and k != ENCODED}
    out["reactions"] = {kind: int(flat.get(REACTION_FIELD + kind, 0)) for kind in REACTIONS}
    return out


async def _load(app: web.Application, post_id: str) -> dict | None:
    post = await store.find(app[MONGO], post_id)
    return flatten(post) if post else None


POST = cache.kind("post", "post:", _load, finish="post_encode")
key = POST.key


def audience_of(post: dict) -> str:
    """The post's entry in `posts:audience`: `<author>:<privacy>`, the privacy `Removed` while a
    moderator has taken it down (only its author sees it then)."""
    return f"{post['userId']}:{'Removed' if post.get('takenDown') else post['privacy']}"


def has_image(post: dict) -> bool:
    """What `/post/images` lists: posts with an image or a GIF (as the original did)."""
    return bool(post.get("imgId") or post.get("gifUrl"))


MERGE_CHUNK = 250  # posts_merge writes ~6 times per post: 250 keep a call within a few ms


async def _chunks(app: web.Application):
    async for rows in indexes.chunked(store.index_rows(app[MONGO]), MERGE_CHUNK):
        keys = [ALL, IMAGES, VIDEOS, AUDIENCE, COUNTS, POST.gone, SUMS]
        slots: dict[str, int] = {}
        entries = []
        for row in rows:
            author = row["userId"]
            if author not in slots:
                keys.append(by_user(author))
                slots[author] = len(keys)
            entries.append([row["_id"], ms(row["createdAt"]), slots[author], audience_of(row),
                            has_image(row), bool(row.get("videoId"))])
        yield lambda pipe, keys=keys, entries=entries: functions.call(pipe, "posts_merge", keys, {"entries": entries})


INDEX = indexes.Index("posts", "posts", _chunks, lambda app: app[MONGO][store.COLLECTION].estimated_document_count())
indexes.family("posts", lambda rest: INDEX)


# --- reads -------------------------------------------------------------------


def read(app: web.Application, post_id: str) -> Read:
    """The post (wire form), as a `Read` (mysocial.core.reads)."""
    flat = cache.doc(POST, post_id)

    async def finish(app_: web.Application, replies: list) -> dict | None:
        found = await flat.finish(app_, replies)
        return unflatten(found) if found else None

    return Read(flat.queue, 1, finish)


async def get(app: web.Application, post_id: str) -> dict | None:
    return await read_one(app, read(app, post_id))


def reactions_read(post_id: str) -> Read:
    """The post's reaction counts by kind (zeros if the post is gone)."""
    return reads.plain(lambda pipe: pipe.hmget(key(post_id), [REACTION_FIELD + kind for kind in REACTIONS]), 1,
                       lambda replies: {k: int(v or 0) for k, v in zip(REACTIONS, replies[0])})


async def get_many(app: web.Application, ids: list[str]) -> list[dict]:
    return [unflatten(f) for f in await cache.get_many(app, POST, ids)]


_SPLICED = (ENCODED, COMMENTS_COUNT, *(REACTION_FIELD + kind for kind in REACTIONS))
_KIND_LABELS = tuple(f'"{kind}":'.encode() for kind in REACTIONS)


def _queue_spliced(pipe, ids: list[str]) -> None:
    for post_id in ids:  # the command itself: redis-py's hmget() re-lists its arguments on every call
        pipe.execute_command("HMGET", key(post_id), *_SPLICED)


def spliced(row: list) -> bytes | None:
    """A post's wire JSON from its HMGET of `_SPLICED`: what post_encode kept, with the counters put
    before its closing brace, as bytes (not decoded: in the API, where it costs ~1 µs a post,
    rather than in a Redis function, where it cost Redis ~6 µs). None when a part is missing, or
    `_json` is in the JSON-string form of an earlier version (the caller encodes the post again)."""
    encoded, comments, *counts = row
    if not encoded or encoded[0] != 0x7B or comments is None or None in counts:  # 0x7B: "{"
        return None
    reactions = b",".join(label + count for label, count in zip(_KIND_LABELS, counts))
    return b"".join((encoded[:-1], b',"commentsCount":', comments, b',"reactions":{', reactions, b"}}"))


async def get_encoded(app: web.Application, ids: list[str]) -> tuple[list[str], list[orjson.Fragment | dict]]:
    """The posts for `ids`, in order, as JSON ready to go into an answer (`orjson.Fragment`s): the
    bytes Redis keeps with the counters merged in, not each field decoded and encoded again. A post
    without them (filled from MongoDB) is read as a document; deleted ones are dropped. Returns
    the ids kept and their posts."""
    if not ids:
        return [], []
    texts = [spliced(row) for row in await app[BATCH].run(lambda pipe: _queue_spliced(pipe, ids))]
    unencoded = [i for i, text in zip(ids, texts) if not text]
    if unencoded:  # cached before posts were encoded (or not cached): encoded now, in one round trip
        replies = await app[BATCH].run(lambda pipe: ([_encode(pipe, i) for i in unencoded], _queue_spliced(pipe, unencoded)))
        found = dict(zip(unencoded, map(spliced, replies[len(unencoded):])))
        texts = [text or found[i] for i, text in zip(ids, texts)]
    cache_result(True, sum(1 for text in texts if text))
    kept: list[str] = []
    out: list[orjson.Fragment | dict] = []
    for post_id, text in zip(ids, texts):
        made = orjson.Fragment(text) if text else await get(app, post_id)
        if made is not None:
            kept.append(post_id)
            out.append(made)
    return kept, out


def sums_changed(pipe) -> None:
    """An account's state changed: the sums are counted again when a total next needs them."""
    pipe.delete(SUMS)


# --- writes (inside a write-path transaction) -----------------------------------


def _index(pipe, post: dict, fields: dict, drop: bool = False) -> None:
    """Lists, audience and counts after `fields` change `post` (all of it, for a new post)."""
    after = {**post, **fields}
    named = {"id": post["_id"], "score": ms(post["createdAt"])}
    if drop:
        named["drop"] = True
    elif {"privacy", "takenDown"} & set(fields):
        named["audience"] = True  # the library reads the hash as it is then
    if {"imgId", "gifUrl"} & set(fields):
        named["image"] = has_image(after)
    if "videoId" in fields:
        named["video"] = bool(after.get("videoId"))
    functions.call(pipe, "post_index", [key(post["_id"]), AUDIENCE, COUNTS, IMAGES, VIDEOS, moderation.suspended_key,
                                        moderation.limited_key, SUMS], named)


def _encode(pipe, post_id: str) -> None:
    functions.call(pipe, "post_encode", [key(post_id)])


def create(pipe, post: dict) -> None:
    """The post, listed, and its author's postsCount moved (results: 1, 1, the new count, then 1
    for its encoded JSON)."""
    cache.add(pipe, POST, flatten(post), ms(post["createdAt"]), [ALL, by_user(post["userId"])])
    _index(pipe, post, post)
    users.count(pipe, post["userId"], "postsCount", 1)
    _encode(pipe, post["_id"])


def update(pipe, post: dict, fields: dict) -> None:
    """Change `fields` of `post` (as read before); lists and audience move only for fields given."""
    if fields:
        cache.patch(pipe, POST, post["_id"], flatten(fields))
    _index(pipe, post, fields)
    if fields:
        _encode(pipe, post["_id"])


def delete(pipe, post: dict, now_ms: float) -> None:
    """Delete the post and decrement its author's postsCount once, even if raced (the result:
    the new count, None if it was gone already)."""
    cache.remove(pipe, POST, post["_id"], now_ms, ALL, [IMAGES, VIDEOS, by_user(post["userId"])],
                 counter=users.counter(post["userId"], "postsCount"), complete=INDEX.name)
    _index(pipe, post, {}, drop=True)
