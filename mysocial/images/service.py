"""What the image routes do: a new profile picture or background, a gallery, deleting one.

Uploads go through the media port (`app[MEDIA]`); the image record and the user's
profilePicture / bgImageId / bgImageVersion change through the write path. `update user` and
`delete image` go to everyone except users in a block with the owner (the gallery and the
profile are public): the owner's own sockets get the whole user, others the public projection.
"""
from __future__ import annotations

import time

from aiohttp import web
from bson import ObjectId

from mysocial.core import realtime
from mysocial.core.appkeys import MEDIA
from mysocial.core.errors import Forbidden, NotFound
from mysocial.core.functions import Refused
from mysocial.core.mongo import now_iso
from mysocial.core.reads import read_one
from mysocial.core.writepath import Change, commit
from mysocial.graph import cache as graph
from mysocial.images import cache
from mysocial.users import cache as users, profiles, views

NOT_FOUND = "Image not found"
NO_BACKGROUND = {"bgImageId": "", "bgImageVersion": ""}


def _changes(image_id: str, user_id: str, deleted: bool = False) -> list[Change]:
    return [Change("image", image_id, (cache.key(image_id),), deleted), Change("user", user_id, (users.key(user_id),))]


async def _tell_everyone(app: web.Application, user: dict, event: str, data) -> None:
    hidden = await read_one(app, graph.blocks(user["_id"]))  # a suspended user has no socket
    if event == "update user":
        await realtime.emit_to(app, event, data, [user["_id"]])
        await realtime.emit_except(app, event, views.public(data), {*hidden, user["_id"]})
        return
    await realtime.emit_except(app, event, data, hidden)


async def add(app: web.Application, me: str, data_url: str, background: bool) -> dict:
    user = await users.require(app, me)
    image_id = str(ObjectId())
    uploaded = await app[MEDIA].upload(data_url, image_id, "image")
    if background:
        fields = {"bgImageId": uploaded.id, "bgImageVersion": uploaded.version}
        image = {"imgId": "", "imgVersion": "", **fields}
    else:
        fields = {"profilePicture": uploaded.url}
        image = {"imgId": uploaded.id, "imgVersion": uploaded.version, **NO_BACKGROUND}
    image = {"_id": image_id, "userId": user["_id"], **image, "createdAt": now_iso()}

    def write(pipe) -> None:
        cache.add(pipe, image)
        users.update(pipe, user["_id"], fields)

    await commit(app, write, _changes(image_id, user["_id"]))
    updated = await users.get(app, user["_id"]) or {**user, **fields}
    await _tell_everyone(app, user, "update user", updated)
    return image


async def gallery(app: web.Application, reader: str, user_id: str) -> list[dict]:
    user = await profiles.visible(app, reader, user_id)
    return await cache.for_user(app, user["_id"])


async def _remove(app: web.Application, user: dict, image: dict) -> None:
    """Delete the record; if it is the current background, the user loses it too."""
    clears = image.get("bgImageId") and image["bgImageId"] == user.get("bgImageId")

    def write(pipe) -> None:
        cache.delete(pipe, image, time.time() * 1000)
        if clears:
            users.update(pipe, user["_id"], NO_BACKGROUND)

    results = await commit(app, write, _changes(image["_id"], user["_id"], deleted=True))
    if results[0] is None or isinstance(results[0], Refused):
        raise NotFound(NOT_FOUND)
    await _tell_everyone(app, user, "delete image", image["_id"])
    if clears:
        await _tell_everyone(app, user, "update user", {**user, **NO_BACKGROUND})


async def delete(app: web.Application, me: str, image_id: str) -> None:
    image = await cache.get(app, image_id)
    if image is None:
        raise NotFound(NOT_FOUND)
    if image["userId"] != me:
        raise Forbidden("You can only delete your own images")
    await _remove(app, await users.require(app, me), image)


async def delete_background(app: web.Application, me: str, bg_id: str) -> None:
    user = await users.require(app, me)
    image = next((i for i in await cache.for_user(app, user["_id"]) if i.get("bgImageId") == bg_id), None)
    if image is None:
        raise NotFound(NOT_FOUND)
    await _remove(app, user, image)
