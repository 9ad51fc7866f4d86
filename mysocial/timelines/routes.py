"""Timelines (Mastodon's paths and cursor pages): home, public, all, a profile's posts; trends."""
from __future__ import annotations

from aiohttp import web

from mysocial.core import pages, security
from mysocial.core.http import id_param, json_response
from mysocial.core.openapi import doc
from mysocial.core.pages import CursorQuery
from mysocial.timelines import service
from mysocial.timelines.schemas import TimelineAnswer, TrendsQuery

routes = web.RouteTableDef()


async def timeline(request: web.Request, read, message: str) -> web.Response:
    me = security.me(request)["userId"]
    at = pages.cursor(request)
    ids, found, cut = await read(request.app, me, at)
    return json_response({"message": message, "posts": found}, headers=pages.link(request, ids, at, cut))


@routes.get("/timelines/home")
@doc("My home timeline: my posts and those of whom I follow that I may see, newest first", answer=TimelineAnswer,
     query=CursorQuery)
async def home(request: web.Request) -> web.Response:
    return await timeline(request, service.home, "Home timeline")


@routes.get("/timelines/public")
@doc("Every Public post I may see, newest first", answer=TimelineAnswer, query=CursorQuery)
async def public(request: web.Request) -> web.Response:
    return await timeline(request, service.public, "Public timeline")


@routes.get("/timelines/all")
@doc("Every post I may see, newest first (what /post/all/:page pages by number)", answer=TimelineAnswer,
     query=CursorQuery)
async def everything(request: web.Request) -> web.Response:
    return await timeline(request, service.everything, "All posts")


@routes.get("/accounts/{userId}/posts")
@doc("A user's posts that I may see, newest first; 404 across a block", answer=TimelineAnswer, query=CursorQuery,
     errors=(404,))
async def profile_posts(request: web.Request) -> web.Response:
    user_id = id_param(request, "userId", "user id")

    async def read(app, me, at):
        return await service.of_profile(app, me, user_id, at)

    return await timeline(request, read, "User posts")


@routes.get("/trends/posts")
@doc("Trending Public posts: the most interactions lately, with a time decay", answer=TimelineAnswer,
     query=TrendsQuery)
async def trending(request: web.Request) -> web.Response:
    me = security.me(request)["userId"]
    found = await service.trending(request.app, me, pages.cursor(request).limit)
    return json_response({"message": "Trending posts", "posts": found})
