"""What the auth routes do: sign up, sign in, sign out, forgot, reset and change a password."""
from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timezone

from aiohttp import web
from bson import ObjectId

import queues
from mysocial.auth import cache
from mysocial.core import security
from mysocial.core.appkeys import JOBS, MEDIA, SETTINGS
from mysocial.core.cache import ms
from mysocial.core.errors import BadRequest, Forbidden, NotAuthorized
from mysocial.core.mongo import now_iso
from mysocial.core.writepath import Change, commit
from mysocial.moderation import service as moderation
from mysocial.sessions import cache as session_cache, service as sessions, tokens
from mysocial.users import cache as users

INVALID = "Invalid credentials"
EXPIRED = "Reset token has expired."


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


def token_for(settings, user: dict, session: dict) -> str:
    """An access token (a JWT of TOKEN_TTL seconds) of `session`."""
    claims = {k: user[k] for k in ("uId", "email", "username", "avatarColor")}
    return security.make_token(settings, claims | {"userId": user["_id"], "sid": session["_id"]})


def signed_in(settings, user: dict, session: dict) -> tuple[dict, str, str]:
    """The user, an access token and the first refresh token of a new session."""
    return user, token_for(settings, user, session), tokens.make(settings, session, 0)


async def refresh(app: web.Application, refresh_token: object) -> tuple[str, str]:
    """A new access token and the next refresh token (mysocial.sessions.service.refresh)."""
    session, generation = await sessions.refresh(app, refresh_token)
    user = await users.get(app, session["userId"])
    if user is None or await moderation.sign_in_refusal(app, user["_id"]):
        await sessions.end(app, session["userId"], only=session["_id"])  # frozen or suspended meanwhile
        raise NotAuthorized(security.INVALID)
    settings = app[SETTINGS]
    return token_for(settings, user, session), tokens.make(settings, session, generation)


async def signup(request: web.Request, data: dict) -> tuple[dict, str, str]:
    """The new user and the tokens of a new session (`signed_in`); 400 `Invalid credentials` if the name or the
    e-mail is taken."""
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
        session = sessions.opened(request, user_id)

        def write(pipe):
            cache.put(pipe, auth)
            users.put(pipe, user, ms(at))
            session_cache.add(pipe, session)

        await commit(app, write, [Change("auth", auth_id, (cache.key(auth_id),)),
                                  Change("user", user_id, (users.key(user_id),)), sessions.change(session["_id"])])
    except BaseException:
        await cache.release(app, username, email)
        raise
    return signed_in(app[SETTINGS], user, session)


async def signin(request: web.Request, data: dict) -> tuple[dict, str, str]:
    app = request.app
    auth_id = await cache.id_by_username(app, data["username"])
    auth = await cache.get(app, auth_id) if auth_id else None
    if not await security.check_password(app[SETTINGS], data["password"], auth["password"] if auth else None):
        raise BadRequest(INVALID)
    user = await users.get(app, auth["userId"])
    if user is None:
        raise BadRequest(INVALID)
    refused = await moderation.sign_in_refusal(app, user["_id"])
    if refused:
        raise Forbidden(refused)
    session = sessions.opened(request, user["_id"])
    await commit(app, lambda pipe: session_cache.add(pipe, session), [sessions.change(session["_id"])])
    refused = await moderation.sign_in_refusal(app, user["_id"])  # a freeze may have ended sessions meanwhile
    if refused:
        await sessions.end(app, user["_id"], only=session["_id"])
        raise Forbidden(refused)
    await sessions.started(app, session)
    return signed_in(app[SETTINGS], user, session)


async def forgot_password(app: web.Application, email: str) -> None:
    """E-mail a reset link to the account of `email`, if there is one."""
    auth_id = await cache.id_by_email(app, email)
    auth = await cache.get(app, auth_id) if auth_id else None
    if auth:
        token = secrets.token_urlsafe(32)
        await cache.new_reset_token(app, token, auth_id)
        link = f"{app[SETTINGS].client_url.rstrip('/')}/reset-password?token={token}"
        await queues.enqueue_email(app[JOBS], "forgot-password", auth["email"],
                                   {"username": auth["username"], "resetLink": link})


async def reset_password(request: web.Request, token: str, password: str) -> None:
    auth_id = await cache.use_reset_token(request.app, token)
    auth = await cache.get(request.app, auth_id) if auth_id else None
    if not auth:
        raise BadRequest(EXPIRED)
    await change_password(request, auth, password, keep=None)


async def change_password(request: web.Request, auth: dict, password: str, keep: str | None) -> None:
    """Store a new hash (write path), have the e-mail worker send the confirmation, and end every
    session of the user but `keep` (the caller's own, for a change; none for a reset)."""
    app = request.app
    hashed = await security.hash_password(app[SETTINGS], password)
    details = {
        "username": auth["username"], "email": auth["email"], "ipaddress": request.remote or "",
        "date": datetime.now(timezone.utc).strftime("%d/%m/%Y %H:%M"),
    }
    key = uuid.uuid4().hex  # one e-mail however often the commit is tried
    await commit(
        app,
        lambda pipe: cache.update(pipe, auth["_id"], {"password": hashed}),
        [Change("auth", auth["_id"], (cache.key(auth["_id"]),))],
        jobs=lambda pipe: queues.email(pipe, "password-changed", auth["email"], details, key=key),
    )
    await sessions.end(app, auth["userId"], keep=keep)
