"""Images in Redis: `image:<id>` hash and `images:<userId>` sorted set (score: when), the index of
the same name (core.indexes), rebuilt from MongoDB per user."""
from __future__ import annotations

from aiohttp import web

from mysocial.core import cache, indexes
from mysocial.core.appkeys import MONGO
from mysocial.core.cache import ms
from mysocial.images import store

IMAGE = cache.kind("image", "image:", lambda app, iid: store.find(app[MONGO], iid))
key = IMAGE.key
LISTED = indexes.listing("images:", "images", IMAGE.gone, lambda app, user_id: store.entries(app[MONGO], user_id))
of_user = LISTED.key


async def get(app: web.Application, image_id: str) -> dict | None:
    return await cache.get(app, IMAGE, image_id)


async def for_user(app: web.Application, user_id: str) -> list[dict]:
    return await cache.get_many(app, IMAGE, await LISTED.ids(app, user_id))


def add(pipe, image: dict) -> None:
    cache.add(pipe, IMAGE, image, ms(image["createdAt"]), [of_user(image["userId"])])


def delete(pipe, image: dict, now_ms: float) -> None:
    """Result: None if the image was already gone."""
    cache.remove(pipe, IMAGE, image["_id"], now_ms, of_user(image["userId"]), complete=of_user(image["userId"]))
