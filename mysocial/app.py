"""create_app(settings): every resource and every feature router on one screen."""
from __future__ import annotations

from aiohttp import web

from mysocial.auth.routes import routes as auth_routes
from mysocial.chat import events as chat_events
from mysocial.chat.routes import routes as chat_routes
from mysocial.comments.routes import routes as comment_routes
from mysocial import migrate
from mysocial.config import Settings
from mysocial.core import indexes, logs, metrics, openapi, ratelimit, realtime, web as middlewares
from mysocial.core.appkeys import MEDIA, SETTINGS
from mysocial.core.media import make_media, serve_local
from mysocial.core.mongo import mongo_ctx
from mysocial.core.schemas import SMALL_BODY
from mysocial.core.redis import redis_ctx
from mysocial.graph.routes import routes as graph_routes
from mysocial.health.routes import routes as health_routes
from mysocial.images.routes import routes as image_routes
from mysocial.notifications.routes import routes as notification_routes
from mysocial.posts.routes import routes as post_routes
from mysocial.moderation.routes import routes as moderation_routes
from mysocial.reactions.routes import routes as reaction_routes
from mysocial.sessions.routes import routes as session_routes
from mysocial.sessions import guard, local as local_sessions
from mysocial.timelines.routes import routes as timeline_routes
from mysocial.users.routes import routes as user_routes
from mysocial.posts import access as post_access, cache as posts
from mysocial.users import cache as users

API = "/api/v1"


def prefixed(routes: web.RouteTableDef, prefix: str) -> list[web.RouteDef]:
    return [web.route(r.method, prefix + r.path, r.handler, **r.kwargs) for r in routes]


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        client_max_size=SMALL_BODY,  # request.read()'s limit; core.http.body reads up to each schema's own
        middlewares=[metrics.observe, middlewares.cors(settings.client_url), middlewares.security_headers,
                     middlewares.errors, middlewares.same_origin(settings.client_url), guard.guard],
    )
    app[SETTINGS] = settings
    app[MEDIA] = make_media(settings)
    app[ratelimit.LEASES] = ratelimit.Leases()
    app[post_access.AUTHORS] = post_access.Authors()
    app.cleanup_ctx.append(redis_ctx(settings))
    app.cleanup_ctx.append(mongo_ctx(settings, on_start=migrate.apply))
    app.cleanup_ctx.append(local_sessions.copies_ctx)
    app.on_startup.append(indexes.prepare(users.INDEX, posts.INDEX))
    app.on_cleanup.append(indexes.stop_rebuilds)
    app.on_cleanup.append(logs.flush_access)
    realtime.attach(app, settings, realtime.make_server(settings), guard.authenticate)
    chat_events.register(app)

    app.router.add_routes(health_routes)
    app.router.add_get("/metrics", metrics.scrape)
    for routes in (auth_routes, user_routes, post_routes, reaction_routes, comment_routes, image_routes,
                   graph_routes, notification_routes, chat_routes, session_routes, moderation_routes, timeline_routes):
        app.router.add_routes(prefixed(routes, API))
    serve_local(app, settings)
    openapi.attach(app)
    return app
