"""Every setting, read once from the environment."""
from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field, replace


class ConfigError(RuntimeError):
    pass


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _choice(env: dict, name: str, choices: tuple[str, ...], default: str) -> str:
    """One of `choices`, matched without regard to case; anything else is a start-up error."""
    raw = env.get(name)
    if raw in (None, ""):
        return default
    for choice in choices:
        if raw.strip().lower() == choice.lower():
            return choice
    raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")


ENVIRONMENTS = ("development", "production", "test", "bench")


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    host: str = "0.0.0.0"
    port: int = 5000
    redis_url: str = "redis://localhost:6379/0"  # the cache and the pending ledger (and the rest, by default)
    queue_redis_url: str = ""  # RQ's queues and the persist drain sets; "" = redis_url
    pubsub_redis_url: str = ""  # Socket.IO's pub/sub between instances; "" = redis_url (redis+sentinel:// too)
    mongo_url: str = ""
    mongo_db: str = "mysocial"
    mongo_timeout_ms: int = 10_000
    jwt_secret: str = ""
    cookie_keys: tuple[str, ...] = ()
    client_url: str = "http://localhost:3000"
    api_url: str = "http://localhost:5000"
    cloudinary_url: str = ""
    sendgrid_api_key: str = ""
    sender_email: str = "no-reply@mysocial.local"
    media_dir: str = "media"
    outbox_dir: str = "outbox"
    instance: str = field(default_factory=socket.gethostname)
    cache_ttl: int = 7 * 24 * 3600
    reconcile_after: int = 60
    token_ttl: int = 2 * 3600  # the access token (a JWT)
    refresh_ttl: int = 90 * 24 * 3600  # a session without use ends after this
    refresh_grace: int = 30  # a rotated refresh token still answers this long (concurrent refreshes)
    bcrypt_rounds: int = 10
    rate_limit: int = 300
    auth_rate_limit: int = 10
    socket_rate_limit: int = 60
    report_rate_limit: int = 5
    feed_cap: int = 800  # entries a home feed keeps; older pages come from MongoDB
    fanout_batch: int = 1000  # followers per fan-out job
    feed_active_days: int = 7  # home feeds are kept for users active this recently
    trends_half_life: int = 2 * 3600  # seconds for an interaction's weight to halve
    trends_min_interactions: int = 5  # a post needs this many recent interactions to trend
    cookie_samesite: str = "Lax"
    reuse_port: bool = False
    metrics_token: str = ""
    log_format: str = "json"
    log_level: str = "INFO"

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def queue_redis(self) -> str:
        return self.queue_redis_url or self.redis_url

    @property
    def pubsub_redis(self) -> str:
        return self.pubsub_redis_url or self.redis_url

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)


def load(env: dict | None = None) -> Settings:
    """Build Settings from the environment; production refuses to start without secrets."""
    env = dict(os.environ if env is None else env)
    mode = _choice(env, "NODE_ENV" if env.get("NODE_ENV") else "MYSOCIAL_ENV", ENVIRONMENTS, "development")
    keys = tuple(k for k in (env.get("SECRET_KEY_ONE", ""), env.get("SECRET_KEY_TWO", "")) if k)
    jwt_secret = env.get("JWT_SECRET", "")
    if mode == "production":
        missing = [n for n, v in (("JWT_SECRET", jwt_secret), ("SECRET_KEY_ONE", keys)) if not v]
        if missing:
            raise ConfigError(f"production needs {', '.join(missing)} set")
        if len(jwt_secret) < 32:
            raise ConfigError("JWT_SECRET must be at least 32 characters in production")
    jwt_secret = jwt_secret or secrets.token_urlsafe(48)
    keys = keys or (secrets.token_urlsafe(32),)
    port = _int(env, "PORT", 5000)
    return Settings(
        env=mode,
        host=env.get("HOST", "0.0.0.0"),
        port=port,
        redis_url=env.get("REDIS_URL", "redis://localhost:6379/0"),
        queue_redis_url=env.get("QUEUE_REDIS_URL", ""),
        pubsub_redis_url=env.get("PUBSUB_REDIS_URL", ""),
        mongo_url=env.get("MONGO_URL") or env.get("DATABASE_URL") or "",
        mongo_db=env.get("MONGO_DB", "mysocial"),
        mongo_timeout_ms=_int(env, "MONGO_TIMEOUT_MS", 10_000),
        jwt_secret=jwt_secret,
        cookie_keys=keys,
        client_url=env.get("CLIENT_URL", "http://localhost:3000"),
        api_url=env.get("API_URL", f"http://localhost:{port}"),
        cloudinary_url=env.get("CLOUDINARY_URL", ""),
        sendgrid_api_key=env.get("SENDGRID_API_KEY", ""),
        sender_email=env.get("SENDER_EMAIL", "no-reply@mysocial.local"),
        media_dir=env.get("MEDIA_DIR", "media"),
        outbox_dir=env.get("OUTBOX_DIR", "outbox"),
        instance=env.get("INSTANCE_NAME") or socket.gethostname(),
        cache_ttl=_int(env, "CACHE_TTL", 7 * 24 * 3600),
        reconcile_after=_int(env, "RECONCILE_AFTER", 60),
        token_ttl=_int(env, "TOKEN_TTL", 2 * 3600),
        refresh_ttl=_int(env, "REFRESH_TTL", 90 * 24 * 3600),
        refresh_grace=_int(env, "REFRESH_GRACE", 30),
        bcrypt_rounds=_int(env, "BCRYPT_ROUNDS", 10),
        rate_limit=_int(env, "RATE_LIMIT", 300),
        auth_rate_limit=_int(env, "AUTH_RATE_LIMIT", 10),
        socket_rate_limit=_int(env, "SOCKET_RATE_LIMIT", 60),
        report_rate_limit=_int(env, "REPORT_RATE_LIMIT", 5),
        feed_cap=_int(env, "FEED_CAP", 800),
        fanout_batch=_int(env, "FANOUT_BATCH", 1000),
        feed_active_days=_int(env, "FEED_ACTIVE_DAYS", 7),
        trends_half_life=_int(env, "TRENDS_HALF_LIFE", 2 * 3600),
        trends_min_interactions=_int(env, "TRENDS_MIN_INTERACTIONS", 5),
        cookie_samesite=_choice(env, "COOKIE_SAMESITE", ("Lax", "Strict", "None"), "Lax"),
        reuse_port=_choice(env, "REUSE_PORT", ("0", "1"), "0") == "1",
        metrics_token=env.get("METRICS_TOKEN", ""),
        log_format=env.get("LOG_FORMAT", "json"),
        log_level=env.get("LOG_LEVEL", "INFO"),
    )
