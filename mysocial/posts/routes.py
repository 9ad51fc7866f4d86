"""Posts: create (text, image, video), edit, delete, the three feeds, a user's profile posts."""
from __future__ import annotations

from aiohttp import web

from mysocial.core import security
from mysocial.core.http import body, id_param, json_response, page_number
from mysocial.core.openapi import doc
from mysocial.posts import service
from mysocial.posts.schemas import (
    FeedAnswer, ImagePostSchema, ImageUpdateSchema, MediaFeedAnswer, PostAnswer, PostSchema, ProfilePostsAnswer,
    UpdateSchema, VideoPostSchema, VideoUpdateSchema,
)

routes = web.RouteTableDef()


async def feed(request: web.Request, listing: str, message: str, with_total: bool = False) -> web.Response:
    me = security.me(request)
    posts, total = await service.feed(request.app, me["userId"], listing, page_number(request), with_total)
    answer = {"message": message, "posts": posts}
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
@doc("A profile and the posts of it I may see; 404 across a block", answer=ProfilePostsAnswer, errors=(404,),
     params={"uId": {"type": "string", "pattern": "^[0-9]{12}$"}})
async def profile_posts(request: web.Request) -> web.Response:
    me = security.me(request)
    user, posts = await service.profile_posts(request.app, me["userId"], id_param(request, "userId", "user id"),
                                              request.match_info["username"], request.match_info["uId"])
    return json_response({"message": "Get user profile and posts", "user": user, "posts": posts})


async def publish(request: web.Request, schema, message: str, kind: str | None = None) -> web.Response:
    me = security.me(request)
    post = await service.publish(request.app, me["userId"], await body(request, schema), kind)
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


async def edit(request: web.Request, schema, message: str, media: service.Media) -> web.Response:
    me = security.me(request)
    post_id = id_param(request, "postId", "post id")
    post = await service.edit(request.app, me["userId"], post_id, await body(request, schema), media)
    return json_response({"message": message, "post": post})


@routes.put("/post/{postId}")
@doc("Edit my post", body=UpdateSchema, answer=PostAnswer, errors=(404,))
async def update_post(request: web.Request) -> web.Response:
    return await edit(request, UpdateSchema, "Post updated successfully", service.kept_media)


@routes.put("/post/image/{postId}")
@doc("Edit my post with a new image (or keep its own)", body=ImageUpdateSchema, answer=PostAnswer, errors=(404,))
async def update_image_post(request: web.Request) -> web.Response:
    return await edit(request, ImageUpdateSchema, "Post with image updated successfully", service.new_media("image"))


@routes.put("/post/video/{postId}")
@doc("Edit my post with a new video (or keep its own)", body=VideoUpdateSchema, answer=PostAnswer, errors=(404,))
async def update_video_post(request: web.Request) -> web.Response:
    return await edit(request, VideoUpdateSchema, "Post with video updated successfully", service.new_media("video"))


@routes.delete("/post/{postId}")
@doc("Delete my post", errors=(404,))
async def delete_post(request: web.Request) -> web.Response:
    me = security.me(request)
    await service.delete(request.app, me["userId"], id_param(request, "postId", "post id"))
    return json_response({"message": "Post deleted successfully"})
