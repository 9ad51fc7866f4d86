"""Images in Redis: `image:<id>` hash and `images:<userId>` sorted set (score: when),
lazily loaded from MongoDB (see mysocial.core.index)."""
from __future__ import annotations

from aiohttp import web

from mysocial.core import index
from mysocial.core.appkeys import MONGO
from mysocial.core.index import Kind, ms
from mysocial.images import store


def key(image_id: str) -> str:
    return f"image:{image_id}"


def of_user(user_id: str) -> str:
    return f"images:{user_id}"


IMAGE = Kind("image", key)


async def get(app: web.Application, image_id: str) -> dict | None:
    return await index.get(app, IMAGE, image_id, lambda iid: store.find(app[MONGO], iid))


async def ready(app: web.Application, user_id: str) -> None:
    await index.ensure_loaded(app, IMAGE, of_user(user_id), lambda: store.entries(app[MONGO], user_id))


async def for_user(app: web.Application, user_id: str) -> list[dict]:
    ids = await index.ids(app, IMAGE, of_user(user_id), lambda: store.entries(app[MONGO], user_id))
    return await index.get_many(app, IMAGE, ids, lambda iid: store.find(app[MONGO], iid))


def add(pipe, image: dict) -> None:
    index.add(pipe, IMAGE, image, ms(image["createdAt"]), [of_user(image["userId"])])


def delete(pipe, image: dict, now_ms: float) -> None:
    """Result: None if the image was already gone."""
    index.remove(pipe, IMAGE, image["_id"], now_ms, of_user(image["userId"]))
