"""Sign up, sign in, sign out, current user, forgot and reset password."""
from __future__ import annotations

from aiohttp import web

from mysocial.core.openapi import doc
from mysocial.auth import service
from mysocial.auth.schemas import (CurrentUserAnswer, ForgotSchema, RefreshedAnswer, RefreshSchema, ResetSchema,
                                   SignedInAnswer, SignedOutAnswer, SigninSchema, SignupSchema)
from mysocial.core import security
from mysocial.core.appkeys import SETTINGS
from mysocial.core.http import body, json_response
from mysocial.sessions import guard, service as sessions
from mysocial.users import cache as users

routes = web.RouteTableDef()


def signed_in(request: web.Request, message: str, signed: tuple[dict, str, str], status: int) -> web.Response:
    user, token, refresh_token = signed
    response = json_response({"message": message, "user": user, "token": token, "refreshToken": refresh_token},
                             status=status)
    security.set_session(response, request.app[SETTINGS], token)
    return response


@routes.post("/signup")
@doc("Sign up: the user, a token and the session cookie", body=SignupSchema, answer=SignedInAnswer, status=201, auth=False)
async def signup(request: web.Request) -> web.Response:
    return signed_in(request, "User created successfully", await service.signup(request, await body(request, SignupSchema)), 201)


@routes.post("/signin")
@doc("Sign in: the user, a token and the session cookie", body=SigninSchema, answer=SignedInAnswer, auth=False)
async def signin(request: web.Request) -> web.Response:
    return signed_in(request, "User login successfully", await service.signin(request, await body(request, SigninSchema)), 200)


@routes.post("/token/refresh")
@doc("A new access token and the next refresh token (the one given is spent; reusing a spent one "
     "outside the grace window ends its session)", body=RefreshSchema, answer=RefreshedAnswer, auth=False, errors=(401,))
async def refresh(request: web.Request) -> web.Response:
    token, refresh_token = await service.refresh(request.app, (await body(request, RefreshSchema))["refreshToken"])
    return json_response({"token": token, "refreshToken": refresh_token})


@routes.get("/signout")
@doc("Sign out: ends the caller's session (its tokens, its sockets) and clears the cookie", answer=SignedOutAnswer, auth=False)
async def signout(request: web.Request) -> web.Response:
    if request.get(security.CLAIMS) is not None:
        await sessions.end(request.app, security.me(request)["userId"], only=guard.current(request))
    response = json_response({"message": "Logout successful", "user": {}, "token": ""})
    security.clear_session(response, request.app[SETTINGS])
    return response


@routes.get("/currentuser")
@doc("The signed-in user and their token", answer=CurrentUserAnswer)
async def current_user(request: web.Request) -> web.Response:
    me = security.me(request)
    user = await users.get(request.app, me["userId"])
    if user is None:
        return json_response({"token": None, "isUser": False, "user": None})
    return json_response({"token": guard.token(request), "isUser": True, "user": user})


@routes.post("/forgot-password")
@doc("E-mail a reset link (answers the same for unknown e-mails)", body=ForgotSchema, auth=False)
async def forgot_password(request: web.Request) -> web.Response:
    await service.forgot_password(request.app, (await body(request, ForgotSchema))["email"])
    return json_response({"message": "Password reset email sent."})


@routes.post("/reset-password/{token}")
@doc("Set a new password with a reset token; ends every session", body=ResetSchema, auth=False)
async def reset_password(request: web.Request) -> web.Response:
    data = await body(request, ResetSchema)
    await service.reset_password(request, request.match_info["token"], data["password"])
    return json_response({"message": "Password successfully updated."})
