"""Passwords (bcrypt, off the event loop), JWTs and the signed session cookie."""
from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import time

import bcrypt
import jwt
from aiohttp import web

from mysocial.config import Settings
from mysocial.core.appkeys import SETTINGS
from mysocial.core.errors import NotAuthorized

COOKIE = "session"
MISSING = "Token is not available. Please login again."
INVALID = "Token is invalid. Please login again."


def _hash(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def _check(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), hashed.encode())
    except ValueError:
        return False


async def hash_password(settings: Settings, password: str) -> str:
    return await asyncio.to_thread(_hash, password, settings.bcrypt_rounds)


async def check_password(password: str, hashed: str) -> bool:
    return await asyncio.to_thread(_check, password, hashed)


def make_token(settings: Settings, claims: dict) -> str:
    now = int(time.time())
    return jwt.encode({**claims, "iat": now, "exp": now + settings.token_ttl}, settings.jwt_secret, algorithm="HS256")


@functools.lru_cache(maxsize=4096)
def _verified(secret: str, token: str) -> dict:
    return jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "userId"]})


def read_token(settings: Settings, token: str) -> dict:
    """Claims of a valid token. Its signature is checked once and remembered (decoding costs
    about as much as a Redis round trip, on every request); expiry is checked on every use."""
    try:
        claims = _verified(settings.jwt_secret, token)
    except jwt.PyJWTError:
        raise NotAuthorized(INVALID) from None
    if claims["exp"] <= time.time():
        raise NotAuthorized(INVALID)
    return dict(claims)


def _sign(key: str, value: str) -> str:
    digest = hmac.new(key.encode(), value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def seal_cookie(settings: Settings, token: str) -> str:
    """`<jwt>~<sig>`: signed with the first cookie key, so keys can be rotated."""
    return f"{token}~{_sign(settings.cookie_keys[0], token)}"


def open_cookie(settings: Settings, value: str) -> str | None:
    token, _, sig = value.rpartition("~")
    if token and any(hmac.compare_digest(sig, _sign(key, token)) for key in settings.cookie_keys):
        return token
    return None


def token_from(settings: Settings, cookies: dict, authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    raw = cookies.get(COOKIE)
    if raw is None:
        return None
    return open_cookie(settings, raw) or "!invalid"


def claims_from(settings: Settings, cookies: dict, authorization: str | None) -> dict:
    """The JWT claims of whoever is calling; 401 in the contract's words otherwise."""
    token = token_from(settings, cookies, authorization)
    if not token:
        raise NotAuthorized(MISSING)
    return read_token(settings, token)


def set_session(response: web.StreamResponse, settings: Settings, token: str) -> None:
    response.set_cookie(
        COOKIE,
        seal_cookie(settings, token),
        max_age=settings.token_ttl,
        httponly=True,
        secure=settings.production,
        samesite="None" if settings.production else "Lax",
        path="/",
    )


def clear_session(response: web.StreamResponse, settings: Settings) -> None:
    response.del_cookie(COOKIE, path="/", secure=settings.production, samesite="None" if settings.production else "Lax")


CLAIMS = web.RequestKey("claims", dict)


def me(request: web.Request) -> dict:
    """The authenticated caller's JWT claims (401 otherwise); parsed once per request."""
    claims = request.get(CLAIMS)
    if claims is None:
        claims = claims_from(request.app[SETTINGS], request.cookies, request.headers.get("Authorization"))
        request[CLAIMS] = claims
    return claims
