"""What the post routes do: the feeds, a profile's posts, create, edit, delete."""
from __future__ import annotations

import time
from typing import Awaitable, Callable

from aiohttp import web
from bson import ObjectId

from mysocial.core.appkeys import MEDIA
from mysocial.core.errors import BadRequest, NotFound
from mysocial.core.mongo import now_iso
from mysocial.core.reads import read_one
from mysocial.core.writepath import Change, commit
from mysocial.posts import access, cache, listing as post_pages
from mysocial.timelines import cache as timelines
from mysocial.users import cache as users, profiles, views

PAGE_SIZE = 10
PROFILE_POSTS = 1000
TEXT_FIELDS = ("post", "bgColor", "feelings", "gifUrl")
MEDIA_FIELDS = {"image": ("imgId", "imgVersion"), "video": ("videoId", "videoVersion")}
Media = Callable[[web.Application, dict, dict], Awaitable[dict]]


async def feed(app: web.Application, reader: str, listing: str, page: int, with_total: bool) -> tuple[list, int]:
    ids, total = await post_pages.page(app, listing, reader, (page - 1) * PAGE_SIZE, PAGE_SIZE, with_total)
    return (await cache.get_encoded(app, ids))[1], total


async def profile_posts(app: web.Application, reader: str, user_id: str, username: str, uid: str) -> tuple[dict, list]:
    user = await profiles.visible(app, reader, user_id)
    if user["username"].lower() != username.lower() or user["uId"] != uid:
        raise NotFound("User not found")
    ids, _ = await post_pages.page(app, cache.by_user(user["_id"]), reader, 0, PROFILE_POSTS)
    return views.for_reader(user, reader), await cache.get_many(app, ids)


async def upload(app: web.Application, data_url: str, kind: str) -> dict:
    uploaded = await app[MEDIA].upload(data_url, str(ObjectId()), kind)
    id_field, version_field = MEDIA_FIELDS[kind]
    other_id, other_version = MEDIA_FIELDS["video" if kind == "image" else "image"]
    return {id_field: uploaded.id, version_field: uploaded.version, other_id: "", other_version: ""}


def new_post(user: dict, data: dict, media: dict) -> dict:
    return {
        "_id": str(ObjectId()), "userId": user["_id"], "username": user["username"], "email": user["email"],
        "avatarColor": user["avatarColor"], "profilePicture": user.get("profilePicture", ""),
        **{name: data.get(name) or "" for name in TEXT_FIELDS},
        "privacy": data.get("privacy") or "Public", "commentsCount": 0,
        "imgVersion": "", "imgId": "", "videoVersion": "", "videoId": "",
        "reactions": {kind: 0 for kind in cache.REACTIONS}, "createdAt": now_iso(), **media,
    }


async def publish(app: web.Application, author: str, data: dict, kind: str | None) -> dict:
    """A new post (with an image or a video: `kind`), told to its audience."""
    user = await read_one(app, users.card(app, author))
    if user is None:
        raise NotFound("User not found")
    media = await upload(app, data[kind], kind) if kind else {}
    post = new_post(user, data, media)
    *_, hidden, limited = await commit(app, lambda pipe: cache.create(pipe, post),
                                       [Change("post", post["_id"], (cache.key(post["_id"]),)),
                                        Change("user", author, (users.key(author),))],
                                       jobs=lambda pipe: timelines.fan_out(pipe, post), reads=access.reads(author))
    await access.emit(app, "add post", post, await access.audience(app, post, hidden, limited))
    return post


async def kept_media(app: web.Application, post: dict, data: dict) -> dict:
    """A plain edit keeps the post's image or video (its id sent back) or removes it (empty id)."""
    fields = {}
    for kind, (id_field, version_field) in MEDIA_FIELDS.items():
        if id_field in data:
            value = data[id_field] or ""
            if value and value != post.get(id_field):
                raise BadRequest(f"Invalid {kind} id")
            if not value:
                fields.update({id_field: "", version_field: ""})
    return fields


def new_media(kind: str) -> Media:
    """An image (video) edit: a new data URL, or the post's current image (video) id to keep it."""
    id_field, _ = MEDIA_FIELDS[kind]
    missing = "Image is a required field" if kind == "image" else "Video is required"

    async def media(app: web.Application, post: dict, data: dict) -> dict:
        if data.get(kind):
            return await upload(app, data[kind], kind)
        if data.get(id_field) and data[id_field] == post.get(id_field):
            return {}
        raise BadRequest(missing)

    return media


async def edit(app: web.Application, me: str, post_id: str, data: dict, media: Media) -> dict:
    """My post, changed; those who lose sight of it (a narrower privacy) get `delete post`."""
    post = await access.owned(app, me, post_id)
    fields = {name: data[name] or "" for name in TEXT_FIELDS if name in data}
    if data.get("privacy"):
        fields["privacy"] = data["privacy"]
    fields.update(await media(app, post, data))
    before = await access.audience(app, post)
    await commit(app, lambda pipe: cache.update(pipe, post, fields), [Change("post", post_id, (cache.key(post_id),))])
    updated = await cache.get(app, post_id) or {**post, **fields}
    after = await access.audience(app, updated)
    await access.emit(app, "update post", updated, after)
    lost = before.minus(after)
    if lost.everyone or lost.ids:
        await access.emit(app, "delete post", post_id, lost)
    return updated


async def delete(app: web.Application, me: str, post_id: str) -> None:
    post = await access.owned(app, me, post_id)
    audience = await access.audience(app, post)
    await commit(app, lambda pipe: cache.delete(pipe, post, time.time() * 1000),
                 [Change("post", post_id, (cache.key(post_id),), deleted=True), Change("user", me, (users.key(me),))],
                 jobs=lambda pipe: timelines.fan_out(pipe, post, "remove"))
    await access.emit(app, "delete post", post_id, audience)
