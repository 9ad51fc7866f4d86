"""Sign up, sign in, sign out, current user, forgot and reset password."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

from aiohttp import web
from bson import ObjectId

import queues
from mysocial.core.openapi import doc
from mysocial.auth.schemas import CurrentUserAnswer, SignedInAnswer, SignedOutAnswer
from mysocial.auth import cache
from mysocial.auth.schemas import ForgotSchema, ResetSchema, SigninSchema, SignupSchema
from mysocial.core import security
from mysocial.core.appkeys import BATCH, MEDIA, REDIS, SETTINGS
from mysocial.core.errors import BadRequest
from mysocial.core.http import body, json_response
from mysocial.core.mongo import now_iso
from mysocial.core.writepath import Change, commit
from mysocial.sessions import cache as session_cache, guard, service as sessions
from mysocial.users import cache as users

INVALID = "Invalid credentials"
routes = web.RouteTableDef()


def new_user(user_id: str, auth_id: str, uid: str, username: str, email: str, color: str, picture: str, at: str) -> dict:
    return {
        "_id": user_id, "authId": auth_id, "uId": uid, "username": username, "email": email,
        "avatarColor": color, "profilePicture": picture,
        "postsCount": 0, "followersCount": 0, "followingCount": 0,
        "blocked": [], "blockedBy": [],
        "notifications": {"messages": True, "reactions": True, "comments": True, "follows": True},
        "social": {"facebook": "", "instagram": "", "twitter": "", "youtube": ""},
        "work": "", "school": "", "quote": "", "location": "",
        "bgImageVersion": "", "bgImageId": "", "createdAt": at,
    }


def claims(user: dict, session: dict) -> dict:
    return {k: user[k] for k in ("uId", "email", "username", "avatarColor")} | {"userId": user["_id"],
                                                                                "sid": session["_id"]}


def signed_in(request: web.Request, message: str, user: dict, session: dict, status: int) -> web.Response:
    settings = request.app[SETTINGS]
    token = security.make_token(settings, claims(user, session))
    response = json_response({"message": message, "user": user, "token": token}, status=status)
    security.set_session(response, settings, token)
    return response


@routes.post("/signup")
@doc("Sign up: the user, a token and the session cookie", body=SignupSchema, answer=SignedInAnswer, status=201, auth=False)
async def signup(request: web.Request) -> web.Response:
    data = await body(request, SignupSchema)
    app = request.app
    username, email = data["username"].capitalize(), data["email"].lower()
    if await cache.id_by_username(app, username) or await cache.id_by_email(app, email):
        raise BadRequest(INVALID)
    auth_id, user_id = str(ObjectId()), str(ObjectId())
    if not await cache.claim(app, username, email, auth_id):
        raise BadRequest(INVALID)
    try:
        uploaded = await app[MEDIA].upload(data["avatarImage"], user_id)
        password = await security.hash_password(app[SETTINGS], data["password"])
        at = now_iso()
        uid = f"{secrets.randbelow(10**12):012d}"
        user = new_user(user_id, auth_id, uid, username, email, data["avatarColor"], uploaded.url, at)
        auth = {"_id": auth_id, "uId": uid, "username": username, "email": email, "password": password,
                "avatarColor": data["avatarColor"], "userId": user_id, "createdAt": at}
        created_ms = datetime.fromisoformat(at).timestamp() * 1000
        session = sessions.opened(request, user_id)

        def write(pipe):
            cache.put(pipe, auth)
            users.put(pipe, user, created_ms)
            session_cache.add(pipe, session)

        await commit(app[BATCH], write, [Change("auth", auth_id, (cache.key(auth_id),)),
                                         Change("user", user_id, (users.key(user_id),)),
                                         sessions.change(session["_id"])])
    except BaseException:
        await cache.release(app, username, email)
        raise
    return signed_in(request, "User created successfully", user, session, 201)


@routes.post("/signin")
@doc("Sign in: the user, a token and the session cookie", body=SigninSchema, answer=SignedInAnswer, auth=False)
async def signin(request: web.Request) -> web.Response:
    data = await body(request, SigninSchema)
    app = request.app
    auth_id = await cache.id_by_username(app, data["username"])
    auth = await cache.get(app, auth_id) if auth_id else None
    if not await security.check_password(app[SETTINGS], data["password"], auth["password"] if auth else None):
        raise BadRequest(INVALID)
    user = await users.get(app, auth["userId"])
    if user is None:
        raise BadRequest(INVALID)
    session = sessions.opened(request, user["_id"])
    await commit(app[BATCH], lambda pipe: session_cache.add(pipe, session), [sessions.change(session["_id"])])
    return signed_in(request, "User login successfully", user, session, 200)


@routes.get("/signout")
@doc("Sign out: ends the caller's session (its tokens, its sockets) and clears the cookie", answer=SignedOutAnswer, auth=False)
async def signout(request: web.Request) -> web.Response:
    """Ends the caller's session (its tokens refused, its sockets disconnected), if any."""
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
    settings = request.app[SETTINGS]
    token = security.token_from(settings, request.cookies, request.headers.get("Authorization"))
    return json_response({"token": token, "isUser": True, "user": user})


@routes.post("/forgot-password")
@doc("E-mail a reset link (answers the same for unknown e-mails)", body=ForgotSchema, auth=False)
async def forgot_password(request: web.Request) -> web.Response:
    data = await body(request, ForgotSchema)
    app = request.app
    auth_id = await cache.id_by_email(app, data["email"])
    auth = await cache.get(app, auth_id) if auth_id else None
    if auth:
        token = secrets.token_urlsafe(32)
        await cache.new_reset_token(app, token, auth_id)
        link = f"{app[SETTINGS].client_url.rstrip('/')}/reset-password?token={token}"
        await queues.enqueue_email(app[REDIS], "forgot-password", auth["email"],
                                   {"username": auth["username"], "resetLink": link})
    return json_response({"message": "Password reset email sent."})


@routes.post("/reset-password/{token}")
@doc("Set a new password with a reset token; ends every session", body=ResetSchema, auth=False)
async def reset_password(request: web.Request) -> web.Response:
    data = await body(request, ResetSchema)
    app = request.app
    auth_id = await cache.use_reset_token(app, request.match_info["token"])
    auth = await cache.get_for_write(app, auth_id) if auth_id else None
    if not auth:
        raise BadRequest("Reset token has expired.")
    await change_password(request, auth, data["password"], keep=None)
    return json_response({"message": "Password successfully updated."})


async def change_password(request: web.Request, auth: dict, password: str, keep: str | None) -> None:
    """Store a new hash (write path), have the e-mail worker send the confirmation, and end every
    session of the user but `keep` (the caller's own, for a change; none for a reset)."""
    app = request.app
    hashed = await security.hash_password(app[SETTINGS], password)
    details = {
        "username": auth["username"], "email": auth["email"], "ipaddress": request.remote or "",
        "date": datetime.now(timezone.utc).strftime("%d/%m/%Y %H:%M"),
    }
    await commit(
        app[BATCH],
        lambda pipe: cache.update(pipe, auth["_id"], {"password": hashed}),
        [Change("auth", auth["_id"], (cache.key(auth["_id"]),))],
        extra=lambda pipe: queues.email(pipe, "password-changed", auth["email"], details),
    )
    await sessions.end(app, auth["userId"], keep=keep)

