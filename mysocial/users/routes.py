"""Profiles, user pages, suggestions, search, password and profile settings."""
from __future__ import annotations

from typing import Callable

from aiohttp import web

from mysocial.core.openapi import doc
from mysocial.users.schemas import ProfileAnswer, ProfileByIdAnswer, SearchAnswer, SettingsAnswer, SuggestionsAnswer, UsersPage
from mysocial.auth import cache as auth_cache
from mysocial.auth.routes import change_password
from mysocial.blocks import cache as blocks
from mysocial.core import security
from mysocial.core.appkeys import BATCH, MONGO, SETTINGS
from mysocial.core.errors import BadRequest, NotFound
from mysocial.core.http import body, id_param, json_response, page_number
from mysocial.core.writepath import Change, commit
from mysocial.followers import cache as follows
from mysocial.sessions import guard
from mysocial.users import cache, profiles, store, views
from mysocial.users.schemas import BasicInfoSchema, ChangePasswordSchema, SettingsSchema, SocialLinksSchema

PAGE_SIZE = 12
routes = web.RouteTableDef()


def card(user: dict) -> dict:
    return {k: user.get(k) for k in ("_id", "profilePicture", "username", "email", "avatarColor")}


@routes.get("/user/all/{page}")
@doc("A page of 12 users (not me), newest first", answer=UsersPage)
async def all_users(request: web.Request) -> web.Response:
    me = security.me(request)
    ids, total = await cache.page(request.app, page_number(request), PAGE_SIZE, me["userId"])
    hidden = await blocks.hidden_from(request.app, me["userId"])
    users = [views.public(u) for u in await cache.get_many(request.app, [i for i in ids if i not in hidden])]
    total -= len(hidden)
    followers = await follows.follower_ids(request.app, me["userId"])
    return json_response({"message": "Get users", "users": users, "totalUsers": total, "followers": followers})


@routes.get("/user/profile")
@doc("My whole profile", answer=ProfileAnswer, errors=(404,))
async def profile(request: web.Request) -> web.Response:
    me = security.me(request)
    return json_response({"message": "Get user profile", "user": await cache.require(request.app, me["userId"])})


@routes.get("/user/profile/{userId}")
@doc("A profile: public projection (whole for my own id); 404 across a block", answer=ProfileByIdAnswer, errors=(404,))
async def profile_by_id(request: web.Request) -> web.Response:
    me = security.me(request)
    user = await profiles.profile(request.app, me["userId"], id_param(request, "userId", "user id"))
    return json_response({"message": "Get user profile by id", "user": user})


@routes.get("/user/profile/user/suggestions")
@doc("Up to 10 users I do not follow", answer=SuggestionsAnswer)
async def suggestions(request: web.Request) -> web.Response:
    me = security.me(request)
    skip = set(await follows.following_ids(request.app, me["userId"])) | {me["userId"]}
    skip |= await blocks.hidden_from(request.app, me["userId"])
    ids = [i for i in await cache.random_ids(request.app, 10 + len(skip)) if i not in skip][:10]
    users = [views.public(u) for u in await cache.get_many(request.app, ids)]
    return json_response({"message": "User suggestions", "users": users})


@routes.get("/user/profile/search/{query}")
@doc("Users whose name starts with or contains the query", answer=SearchAnswer, params={"query": {"type": "string", "minLength": 1, "maxLength": 50}})
async def search(request: web.Request) -> web.Response:
    me = security.me(request)
    query = request.match_info["query"].strip()
    if not query or len(query) > 50:
        raise BadRequest("Invalid search query")
    app = request.app
    ids = await cache.search_prefix(app, query, 20)
    found = await cache.get_many(app, ids)
    seen = set(ids)
    for user in await store.search(app[MONGO], query, 20):
        if user["_id"] not in seen and len(found) < 20:
            seen.add(user["_id"])
            found.append(user)
    hidden = await blocks.hidden_from(app, me["userId"])
    return json_response({"message": "Search results", "search": [card(u) for u in found if u["_id"] not in hidden]})


@routes.put("/user/profile/change-password")
@doc("Change my password; ends my other sessions", body=ChangePasswordSchema)
async def change_password_route(request: web.Request) -> web.Response:
    me = security.me(request)
    data = await body(request, ChangePasswordSchema)
    user = await cache.get(request.app, me["userId"])
    auth = await auth_cache.get_for_write(request.app, user["authId"]) if user else None
    if not await security.check_password(request.app[SETTINGS], data["currentPassword"],
                                         auth["password"] if auth else None):
        raise BadRequest("Invalid credentials")
    await change_password(request, auth, data["newPassword"], keep=guard.current(request))
    return json_response(
        {"message": "Password updated successfully. You will be redirected shortly to the login page."}
    )


async def update_user(request: web.Request, change: Callable[[dict], dict]) -> dict:
    """Apply `change(user) -> changed fields` to my profile through the write path."""
    me = security.me(request)
    user = await cache.get_for_write(request.app, me["userId"])
    if user is None:
        raise NotFound("User not found")
    fields = change(user)
    if fields:
        await commit(
            request.app[BATCH],
            lambda pipe: cache.update(pipe, me["userId"], fields),
            [Change("user", me["userId"], (cache.key(me["userId"]),))],
        )
    return {**user, **fields}


@routes.put("/user/profile/basic-info")
@doc("Update quote, work, school, location", body=BasicInfoSchema, errors=(404,))
async def basic_info(request: web.Request) -> web.Response:
    security.me(request)
    data = await body(request, BasicInfoSchema)
    await update_user(request, lambda user: data)
    return json_response({"message": "Updated successfully"})


@routes.put("/user/profile/social-links")
@doc("Update social links", body=SocialLinksSchema, errors=(404,))
async def social_links(request: web.Request) -> web.Response:
    security.me(request)
    data = await body(request, SocialLinksSchema)
    await update_user(request, lambda user: {"social": {**user.get("social", {}), **data}})
    return json_response({"message": "Updated successfully"})


@routes.put("/user/profile/settings")
@doc("Update e-mail notification settings", body=SettingsSchema, answer=SettingsAnswer, errors=(404,))
async def notification_settings(request: web.Request) -> web.Response:
    security.me(request)
    data = await body(request, SettingsSchema)
    updated = await update_user(request, lambda user: {"notifications": {**user.get("notifications", {}), **data}})
    return json_response({"message": "Notification settings updated successfully", "settings": updated["notifications"]})
