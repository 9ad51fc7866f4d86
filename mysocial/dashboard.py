"""rq-dashboard beside the API, behind an admin credential (never open)."""
from __future__ import annotations

import hmac
import logging
import os
import secrets

from flask import Flask, Response, request
from rq_dashboard.cli import make_flask_app

from mysocial.config import ConfigError, Settings

log = logging.getLogger("mysocial.dashboard")


def credentials(settings: Settings, env: dict | None = None) -> tuple[str, str]:
    """RQ_DASHBOARD_USERNAME (default admin) and RQ_DASHBOARD_PASSWORD; generated outside production."""
    env = os.environ if env is None else env
    username = env.get("RQ_DASHBOARD_USERNAME", "admin")
    password = env.get("RQ_DASHBOARD_PASSWORD", "")
    if not password:
        if settings.production:
            raise ConfigError("production needs RQ_DASHBOARD_PASSWORD for the dashboard")
        password = secrets.token_urlsafe(12)
        log.warning("rq-dashboard login: %s / %s (set RQ_DASHBOARD_PASSWORD to choose)", username, password)
    return username, password


def make(settings: Settings, username: str, password: str) -> Flask:
    app = make_flask_app(None, None, None, "")
    app.config["RQ_DASHBOARD_REDIS_URL"] = [settings.queue_redis]

    @app.before_request
    def require_login():
        auth = request.authorization
        ok = auth is not None and hmac.compare_digest(auth.username or "", username) and \
            hmac.compare_digest(auth.password or "", password)
        if not ok:
            return Response("Login required", 401, {"WWW-Authenticate": 'Basic realm="MySocial jobs"'})
        return None

    return app


def run(settings: Settings, port: int, host: str = "127.0.0.1") -> None:
    """Serve the dashboard with waitress (a production WSGI server, not Werkzeug's)."""
    from waitress import serve

    username, password = credentials(settings)
    log.info("rq-dashboard on http://%s:%s/ (login: %s)", host, port, username)
    serve(make(settings, username, password), host=host, port=port, threads=4, ident="mysocial-dashboard",
          _quiet=True)
