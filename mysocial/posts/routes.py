"""Posts: create (text, image, video), edit, delete, the three feeds, a user's profile posts."""
from __future__ import annotations

import time
from typing import Awaitable, Callable

from aiohttp import web
from bson import ObjectId

from mysocial.core.openapi import doc
from mysocial.posts.schemas import FeedAnswer, MediaFeedAnswer, PostAnswer, ProfilePostsAnswer
from mysocial.blocks import cache as blocks
from mysocial.core import index, security
from mysocial.core.appkeys import BATCH, MEDIA
from mysocial.core.errors import BadRequest, NotFound
from mysocial.core.http import body, id_param, json_response, page_number
from mysocial.core.mongo import now_iso
from mysocial.core.reads import read_one
from mysocial.core.writepath import Change, commit
from mysocial.posts import access, cache
from mysocial.posts.schemas import (
    ImagePostSchema, ImageUpdateSchema, PostSchema, UpdateSchema, VideoPostSchema, VideoUpdateSchema,
)
from mysocial.users import cache as users, profiles, views

PAGE_SIZE = 10
PROFILE_POSTS = 1000
TEXT_FIELDS = ("post", "bgColor", "feelings", "gifUrl")
MEDIA_FIELDS = {"image": ("imgId", "imgVersion"), "video": ("videoId", "videoVersion")}
routes = web.RouteTableDef()

Media = Callable[[web.Application, dict, dict], Awaitable[dict]]


async def feed(request: web.Request, listing: str, message: str, with_total: bool = False) -> web.Response:
    me = security.me(request)
    skip = (page_number(request) - 1) * PAGE_SIZE
    ids, total = await cache.page(request.app, listing, me["userId"], skip, PAGE_SIZE, with_total)
    answer = {"message": message, "posts": await cache.get_many(request.app, ids)}
    if with_total:
        answer["totalPosts"] = total
    return json_response(answer)


@routes.get("/post/all/{page}")
@doc("A page of 10 posts I may see, newest first", answer=FeedAnswer)
async def all_posts(request: web.Request) -> web.Response:
    return await feed(request, "all", "All posts", with_total=True)


@routes.get("/post/images/{page}")
@doc("A page of posts with an image or a GIF", answer=MediaFeedAnswer)
async def image_posts(request: web.Request) -> web.Response:
    return await feed(request, "images", "All posts with images")


@routes.get("/post/videos/{page}")
@doc("A page of posts with a video", answer=MediaFeedAnswer)
async def video_posts(request: web.Request) -> web.Response:
    return await feed(request, "videos", "All posts with videos")


@routes.get("/user/profile/posts/{username}/{userId}/{uId}")
@doc("A profile and the posts of it I may see; 404 across a block", answer=ProfilePostsAnswer, errors=(404,), params={"uId": {"type": "string", "pattern": "^[0-9]{12}$"}})
async def profile_posts(request: web.Request) -> web.Response:
    me = security.me(request)
    app = request.app
    user = await profiles.visible(app, me["userId"], id_param(request, "userId", "user id"))
    if user["username"].lower() != request.match_info["username"].lower() or user["uId"] != request.match_info["uId"]:
        raise NotFound("User not found")
    ids, _ = await cache.page(app, cache.by_user(user["_id"]), me["userId"], 0, PROFILE_POSTS)
    posts = await cache.get_many(app, ids)
    return json_response({"message": "Get user profile and posts", "user": views.for_reader(user, me["userId"]),
                          "posts": posts})


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


async def publish(request: web.Request, schema, message: str, kind: str | None = None) -> web.Response:
    me = security.me(request)
    data = await body(request, schema)
    app = request.app
    user = await read_one(app, users.card(app, me["userId"]))
    if user is None:
        raise NotFound("User not found")
    media = await upload(app, data[kind], kind) if kind else {}
    post = new_post(user, data, media)

    def write(pipe) -> None:
        cache.create(pipe, post)
        index.bump(pipe, users.key(user["_id"]), "postsCount", 1)

    *_, counted, hidden = await commit(app[BATCH], write, [Change("post", post["_id"], (cache.key(post["_id"]),)),
                                                           Change("user", user["_id"], (users.key(user["_id"]),))],
                                       reads=[blocks.hidden(user["_id"])], app=app)
    if counted is None:  # the author's hash expired since it was read: count the post on a fresh copy
        await users.add_to_count(app, user["_id"], "postsCount", 1)
    await access.emit(app, "add post", post, await access.audience(app, post, hidden))
    return json_response({"message": message, "post": post}, status=201)


@routes.post("/post")
@doc("Create a post", body=PostSchema, answer=PostAnswer, status=201, errors=(404,))
async def create_post(request: web.Request) -> web.Response:
    return await publish(request, PostSchema, "Post created successfully")


@routes.post("/post/image/post")
@doc("Create a post with an image", body=ImagePostSchema, answer=PostAnswer, status=201, errors=(404,))
async def create_image_post(request: web.Request) -> web.Response:
    return await publish(request, ImagePostSchema, "Post created with image successfully", "image")


@routes.post("/post/video/post")
@doc("Create a post with a video", body=VideoPostSchema, answer=PostAnswer, status=201, errors=(404,))
async def create_video_post(request: web.Request) -> web.Response:
    return await publish(request, VideoPostSchema, "Post created with video successfully", "video")


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


async def edit(request: web.Request, schema, message: str, media: Media) -> web.Response:
    me = security.me(request)
    post_id = id_param(request, "postId", "post id")
    data = await body(request, schema)
    app = request.app
    post = await access.owned(app, me["userId"], post_id)
    await cache.ensure_synced(app)
    fields = {name: data[name] or "" for name in TEXT_FIELDS if name in data}
    if data.get("privacy"):
        fields["privacy"] = data["privacy"]
    fields.update(await media(app, post, data))
    before = await access.audience(app, post)
    await commit(app[BATCH], lambda pipe: cache.update(pipe, post, fields),
                 [Change("post", post_id, (cache.key(post_id),))])
    updated = await cache.get(app, post_id) or {**post, **fields}
    after = await access.audience(app, updated)
    await access.emit(app, "update post", updated, after)
    lost = before.minus(after)
    if lost.everyone or lost.ids:
        await access.emit(app, "delete post", post_id, lost)
    return json_response({"message": message, "post": updated})


@routes.put("/post/{postId}")
@doc("Edit my post", body=UpdateSchema, answer=PostAnswer, errors=(404,))
async def update_post(request: web.Request) -> web.Response:
    return await edit(request, UpdateSchema, "Post updated successfully", kept_media)


@routes.put("/post/image/{postId}")
@doc("Edit my post with a new image (or keep its own)", body=ImageUpdateSchema, answer=PostAnswer, errors=(404,))
async def update_image_post(request: web.Request) -> web.Response:
    return await edit(request, ImageUpdateSchema, "Post with image updated successfully", new_media("image"))


@routes.put("/post/video/{postId}")
@doc("Edit my post with a new video (or keep its own)", body=VideoUpdateSchema, answer=PostAnswer, errors=(404,))
async def update_video_post(request: web.Request) -> web.Response:
    return await edit(request, VideoUpdateSchema, "Post with video updated successfully", new_media("video"))


@routes.delete("/post/{postId}")
@doc("Delete my post", errors=(404,))
async def delete_post(request: web.Request) -> web.Response:
    me = security.me(request)
    post_id = id_param(request, "postId", "post id")
    app = request.app
    post = await access.owned(app, me["userId"], post_id)
    await cache.ensure_synced(app)
    user = await users.require(app, me["userId"])
    audience = await access.audience(app, post)

    def write(pipe) -> None:
        index.restore(pipe, users.USER, user["_id"], user)
        cache.delete(pipe, post, time.time() * 1000, users.key(user["_id"]))

    await commit(app[BATCH], write, [Change("post", post_id, (cache.key(post_id),), deleted=True),
                                     Change("user", user["_id"], (users.key(user["_id"]),))])
    await access.emit(app, "delete post", post_id, audience)
    return json_response({"message": "Post deleted successfully"})
