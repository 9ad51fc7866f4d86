"""Profiles, user pages, suggestions, search, password and profile settings."""
from __future__ import annotations

from aiohttp import web

from mysocial.core import security
from mysocial.core.errors import BadRequest
from mysocial.core.http import body, id_param, json_response, page_number
from mysocial.core.openapi import doc
from mysocial.sessions import guard
from mysocial.users import cache, profiles, service
from mysocial.users.schemas import (
    BasicInfoSchema, ChangePasswordSchema, ProfileAnswer, ProfileByIdAnswer, SearchAnswer, SettingsAnswer,
    SettingsSchema, SocialLinksSchema, SuggestionsAnswer, UsersPage,
)

routes = web.RouteTableDef()


@routes.get("/user/all/{page}")
@doc("A page of 12 users (not me), newest first", answer=UsersPage)
async def all_users(request: web.Request) -> web.Response:
    me = security.me(request)
    users, total, followers = await service.page(request.app, me["userId"], page_number(request))
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
    return json_response({"message": "User suggestions", "users": await service.suggestions(request.app, me["userId"])})


@routes.get("/user/profile/search/{query}")
@doc("Users whose name starts with or contains the query", answer=SearchAnswer,
     params={"query": {"type": "string", "minLength": 1, "maxLength": 50}})
async def search(request: web.Request) -> web.Response:
    me = security.me(request)
    query = request.match_info["query"].strip()
    if not query or len(query) > 50:
        raise BadRequest("Invalid search query")
    return json_response({"message": "Search results", "search": await service.search(request.app, me["userId"], query)})


@routes.put("/user/profile/change-password")
@doc("Change my password; ends my other sessions", body=ChangePasswordSchema)
async def change_password_route(request: web.Request) -> web.Response:
    me = security.me(request)
    data = await body(request, ChangePasswordSchema)
    await service.change_password(request, me["userId"], data["currentPassword"], data["newPassword"],
                                  keep=guard.current(request))
    return json_response(
        {"message": "Password updated successfully. You will be redirected shortly to the login page."}
    )


@routes.put("/user/profile/basic-info")
@doc("Update quote, work, school, location", body=BasicInfoSchema, errors=(404,))
async def basic_info(request: web.Request) -> web.Response:
    security.me(request)
    data = await body(request, BasicInfoSchema)
    await service.update(request.app, security.me(request)["userId"], lambda user: data)
    return json_response({"message": "Updated successfully"})


@routes.put("/user/profile/social-links")
@doc("Update social links", body=SocialLinksSchema, errors=(404,))
async def social_links(request: web.Request) -> web.Response:
    security.me(request)
    data = await body(request, SocialLinksSchema)
    await service.update(request.app, security.me(request)["userId"],
                         lambda user: {"social": {**user.get("social", {}), **data}})
    return json_response({"message": "Updated successfully"})


@routes.put("/user/profile/settings")
@doc("Update e-mail notification settings", body=SettingsSchema, answer=SettingsAnswer, errors=(404,))
async def notification_settings(request: web.Request) -> web.Response:
    security.me(request)
    data = await body(request, SettingsSchema)
    updated = await service.update(request.app, security.me(request)["userId"],
                                   lambda user: {"notifications": {**user.get("notifications", {}), **data}})
    return json_response({"message": "Notification settings updated successfully", "settings": updated["notifications"]})
