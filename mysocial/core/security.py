"""Passwords (bcrypt, off the event loop), JWTs and the signed session cookie."""
from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import secrets
import time

import bcrypt
import jwt
from aiohttp import web

from mysocial.config import Settings
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


@functools.lru_cache(maxsize=8)
def _dummy(rounds: int) -> str:
    return _hash(secrets.token_urlsafe(16), rounds)


async def check_password(settings: Settings, password: str, hashed: str | None) -> bool:
    """bcrypt's verdict; without a hash (no such user) the same work against a dummy one, so an
    unknown username answers no sooner than a wrong password."""
    if hashed is None:
        await asyncio.to_thread(_check, password, await asyncio.to_thread(_dummy, settings.bcrypt_rounds))
        return False
    return await asyncio.to_thread(_check, password, hashed)


def make_token(settings: Settings, claims: dict) -> str:
    now = int(time.time())
    return jwt.encode({**claims, "iat": now, "exp": now + settings.token_ttl}, settings.jwt_secret, algorithm="HS256")


@functools.lru_cache(maxsize=4096)
def _verified(secret: str, token: str) -> dict:
    return jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "userId"], "verify_exp": False})


def read_token(settings: Settings, token: str, expired_ok: bool = False) -> dict:
    """Claims of a valid token. Its signature is checked once and remembered (decoding costs
    about as much as a Redis round trip, on every request); expiry is checked on every use
    (`expired_ok`: not at all — a session cookie's token, which its live session renews)."""
    try:
        claims = _verified(settings.jwt_secret, token)
    except jwt.PyJWTError:
        raise NotAuthorized(INVALID) from None
    if claims["exp"] <= time.time() and not expired_ok:
        raise NotAuthorized(INVALID)
    return dict(claims)


def renewed_token(settings: Settings, claims: dict) -> str:
    """The same claims with a new lifetime."""
    return make_token(settings, {k: v for k, v in claims.items() if k not in ("iat", "exp")})


def sign(key: str, value: str) -> str:
    digest = hmac.new(key.encode(), value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def seal_cookie(settings: Settings, token: str) -> str:
    """`<jwt>~<sig>`: signed with the first cookie key, so keys can be rotated."""
    return f"{token}~{sign(settings.cookie_keys[0], token)}"


def open_cookie(settings: Settings, value: str) -> str | None:
    token, _, sig = value.rpartition("~")
    if token and any(hmac.compare_digest(sig.encode(), sign(key, token).encode()) for key in settings.cookie_keys):
        return token
    return None


def token_from(settings: Settings, cookies, authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    raw = cookies.get(COOKIE)
    if raw is None:
        return None
    return open_cookie(settings, raw) or "!invalid"


def by_cookie(request: web.Request) -> bool:
    """Whether the request is authenticated by the session cookie (not by a bearer header)."""
    authorization = request.headers.get("Authorization", "")
    return COOKIE in request.cookies and not authorization.lower().startswith("bearer ")


def set_session(response: web.StreamResponse, settings: Settings, token: str) -> None:
    response.set_cookie(
        COOKIE,
        seal_cookie(settings, token),
        max_age=settings.refresh_ttl,
        httponly=True,
        secure=settings.production,
        samesite=settings.cookie_samesite,
        path="/",
    )


def clear_session(response: web.StreamResponse, settings: Settings) -> None:
    response.del_cookie(COOKIE, path="/", secure=settings.production, samesite=settings.cookie_samesite)


CLAIMS = web.RequestKey("claims", dict)
AUTH_ERROR = web.RequestKey("auth_error", NotAuthorized)


def me(request: web.Request) -> dict:
    """The authenticated caller's claims: set by mysocial.sessions.guard once the token's
    signature, expiry and session were checked; 401 in the contract's words otherwise."""
    claims = request.get(CLAIMS)
    if claims is None:
        raise request.get(AUTH_ERROR) or NotAuthorized(MISSING)
    return claims
