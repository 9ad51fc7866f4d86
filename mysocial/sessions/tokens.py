"""Refresh tokens: `<sessionId>.<generation>.<mac>`, the mac an HMAC of the session's salt and
the generation under JWT_SECRET. Nothing of a token is stored: the session keeps its salt and its
current generation, so a copy of the database yields no usable token (as storing a hash would),
and concurrent refreshes inside the grace window can be answered with the same next token.
"""
from __future__ import annotations

import hmac

from mysocial.config import Settings
from mysocial.core.mongo import is_oid
from mysocial.core.security import sign


def _mac(settings: Settings, session: dict, generation: int) -> str:
    return sign(settings.jwt_secret, f"refresh:{session['_id']}:{generation}:{session['refreshSalt']}")


def make(settings: Settings, session: dict, generation: int) -> str:
    return f"{session['_id']}.{generation}.{_mac(settings, session, generation)}"


def parse(token: str) -> tuple[str, int, str] | None:
    """(session id, generation, mac) of a well-formed token; None otherwise."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3 or not is_oid(parts[0]) or not parts[1].isascii() or not parts[1].isdigit() \
            or len(parts[1]) > 9 or not parts[2].isascii():
        return None
    return parts[0], int(parts[1]), parts[2]


def genuine(settings: Settings, session: dict, generation: int, mac: str) -> bool:
    """Whether `mac` is the session's for `generation` (a forged token revokes nothing)."""
    return bool(session.get("refreshSalt")) and hmac.compare_digest(mac, _mac(settings, session, generation))
