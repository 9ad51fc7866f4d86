"""Images: profile picture, background image, a user's gallery, deleting an image or the background.

Uploads go through the media port (`app[MEDIA]`); the image record and the
user's profilePicture / bgImageId / bgImageVersion change through the write
path. `update user` and `delete image` go to everyone except users in a block
with the owner (the gallery and the profile are public).
"""
from __future__ import annotations

import time

from aiohttp import web
from bson import ObjectId

from mysocial.core.openapi import doc
from mysocial.images.schemas import ImageAnswer, ImagesAnswer
from mysocial.blocks import cache as blocks
from mysocial.core import index, realtime, security
from mysocial.core.appkeys import BATCH, MEDIA
from mysocial.core.errors import BadRequest, Forbidden, NotFound
from mysocial.core.http import body, id_param, json_response
from mysocial.core.mongo import is_oid, now_iso
from mysocial.core.writepath import Change, commit
from mysocial.images import cache
from mysocial.images.schemas import ImageSchema
from mysocial.users import cache as users, profiles, views

ADDED = "Image added successfully"
DELETED = "Image deleted successfully"
NO_BACKGROUND = {"bgImageId": "", "bgImageVersion": ""}
routes = web.RouteTableDef()


def changes(image_id: str, user_id: str, deleted: bool = False) -> list[Change]:
    return [Change("image", image_id, (cache.key(image_id),), deleted), Change("user", user_id, (users.key(user_id),))]


def set_user(pipe, user: dict, fields: dict) -> None:
    index.restore(pipe, users.USER, user["_id"], user)
    index.patch(pipe, users.key(user["_id"]), fields)


async def tell_everyone(app: web.Application, user: dict, event: str, data) -> None:
    """To everyone not in a block with `user`; an `update user` carries the whole document to the
    user's own sockets and the public projection to everyone else's."""
    hidden = await blocks.hidden_from(app, user["_id"])
    if event == "update user":
        await realtime.emit_to(app, event, data, [user["_id"]])
        await realtime.emit_except(app, event, views.public(data), {*hidden, user["_id"]})
        return
    await realtime.emit_except(app, event, data, hidden)


async def add_image(request: web.Request, background: bool) -> web.Response:
    me = security.me(request)
    data = await body(request, ImageSchema)
    app = request.app
    user = await users.require(app, me["userId"])
    image_id = str(ObjectId())
    uploaded = await app[MEDIA].upload(data["image"], image_id, "image")
    if background:
        fields = {"bgImageId": uploaded.id, "bgImageVersion": uploaded.version}
        image = {"imgId": "", "imgVersion": "", **fields}
    else:
        fields = {"profilePicture": uploaded.url}
        image = {"imgId": uploaded.id, "imgVersion": uploaded.version, **NO_BACKGROUND}
    image = {"_id": image_id, "userId": user["_id"], **image, "createdAt": now_iso()}

    def write(pipe) -> None:
        cache.add(pipe, image)
        set_user(pipe, user, fields)

    await commit(app[BATCH], write, changes(image_id, user["_id"]))
    updated = await users.get(app, user["_id"]) or {**user, **fields}
    await tell_everyone(app, user, "update user", updated)
    return json_response({"message": ADDED, "image": image})


@routes.post("/images/profile")
@doc("A new profile picture", body=ImageSchema, answer=ImageAnswer, errors=(404,))
async def profile_image(request: web.Request) -> web.Response:
    return await add_image(request, background=False)


@routes.post("/images/background")
@doc("A new background image", body=ImageSchema, answer=ImageAnswer, errors=(404,))
async def background_image(request: web.Request) -> web.Response:
    return await add_image(request, background=True)


@routes.get("/images/{userId}")
@doc("A user's images; 404 across a block", answer=ImagesAnswer, errors=(404,))
async def user_images(request: web.Request) -> web.Response:
    me = security.me(request)
    app = request.app
    user = await profiles.visible(app, me["userId"], id_param(request, "userId", "user id"))
    return json_response({"message": "User images", "images": await cache.for_user(app, user["_id"])})


async def remove(app: web.Application, user: dict, image: dict) -> None:
    """Delete the record; if it is the current background, the user loses it too."""
    clears = image.get("bgImageId") and image["bgImageId"] == user.get("bgImageId")
    await cache.ready(app, user["_id"])

    def write(pipe) -> None:
        cache.delete(pipe, image, time.time() * 1000)
        if clears:
            set_user(pipe, user, NO_BACKGROUND)

    results = await commit(app[BATCH], write, changes(image["_id"], user["_id"], deleted=True))
    if results[0] is None:
        raise NotFound("Image not found")
    await tell_everyone(app, user, "delete image", image["_id"])
    if clears:
        await tell_everyone(app, user, "update user", {**user, **NO_BACKGROUND})


@routes.delete("/images/{imageId}")
@doc("Delete one of my images", errors=(404,))
async def delete_image(request: web.Request) -> web.Response:
    me = security.me(request)
    image_id = request.match_info["imageId"]
    if not is_oid(image_id):
        raise BadRequest("Invalid image id")
    app = request.app
    image = await cache.get(app, image_id)
    if image is None:
        raise NotFound("Image not found")
    if image["userId"] != me["userId"]:
        raise Forbidden("You can only delete your own images")
    await remove(app, await users.require(app, me["userId"]), image)
    return json_response({"message": DELETED})


@routes.delete("/images/background/{bgImageId}")
@doc("Delete my background image", errors=(404,), params={"bgImageId": {"type": "string", "minLength": 1, "maxLength": 128}})
async def delete_background(request: web.Request) -> web.Response:
    me = security.me(request)
    bg_id = request.match_info["bgImageId"]
    if not 1 <= len(bg_id) <= 128:
        raise BadRequest("Invalid image id")
    app = request.app
    user = await users.require(app, me["userId"])
    image = next((i for i in await cache.for_user(app, user["_id"]) if i.get("bgImageId") == bg_id), None)
    if image is None:
        raise NotFound("Image not found")
    await remove(app, user, image)
    return json_response({"message": DELETED})
