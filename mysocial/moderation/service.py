"""What moderation does: roles, reports and their queue, takedowns, account actions, the audit log.

Every staff action is one write-path transaction (mysocial.core.writepath): the change, the
reports it resolves, its audit entry and its e-mail job commit together, and workers persist
them like any document.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from aiohttp import web
from bson import ObjectId

import queues
from mysocial.auth import cache as auth
from mysocial.chat import cache as chat
from mysocial.comments import cache as comments, service as comment_rules
from mysocial.core import pages, ratelimit, security
from mysocial.core.appkeys import SETTINGS
from mysocial.core.errors import ApiError, BadRequest, Forbidden, NotFound
from mysocial.core.functions import Refused
from mysocial.core.mongo import now_iso
from mysocial.core.reads import read_one
from mysocial.core.writepath import Change, commit
from mysocial.graph import cache as graph
from mysocial.moderation import cache
from mysocial.posts import access, cache as posts
from mysocial.sessions import service as sessions
from mysocial.users import cache as users, profiles

STAFF_ONLY = "You are not allowed to do this"
REPORT_NOT_FOUND = "Report not found"
DUPLICATE = "You have already reported this"
STATE_OF = {"limit": "limited", "freeze": "frozen", "suspend": "suspended", "unsuspend": "active"}
SIGN_IN_REFUSED = {"frozen": "Your account is frozen", "suspended": "Your account is suspended"}
ACTION_WORDS = {
    "warn": "The moderators have warned you.",
    "limit": "Your account is limited: your posts reach only your followers.",
    "freeze": "Your account is frozen: you cannot sign in.",
    "suspend": "Your account is suspended: your profile, posts and comments are hidden.",
    "unsuspend": "Your account is back in good standing.",
}


def _change(kind: str, doc_id: str, key: str, deleted: bool = False) -> Change:
    return Change(kind, doc_id, (key,), deleted)


def _audit(actor: dict, action: str, target_type: str, target_id: str, reason: str) -> dict:
    return {"_id": str(ObjectId()), "actorId": actor["userId"], "actorName": actor["username"], "action": action,
            "targetType": target_type, "targetId": target_id, "reason": reason, "createdAt": now_iso()}


def _recorded(entry: dict) -> list[Change]:
    return [_change("audit", entry["_id"], cache.audit_key(entry["_id"]))]


# --- roles ----------------------------------------------------------------------


async def staff(request: web.Request) -> dict:
    """The caller's claims if they are a moderator or an admin; 403 for anyone else, signed in
    or not (an admin route does not tell a stranger that it exists)."""
    claims = request.get(security.CLAIMS)
    if claims is None or (await cache.get_account(request.app, claims["userId"]))["role"] not in cache.STAFF:
        raise Forbidden(STAFF_ONLY)
    return claims


async def grant(app: web.Application, username: str, role: str) -> dict:
    """Give the user named `username` a role (the command line's `mysocial admin grant`)."""
    if role not in cache.ROLES:
        raise BadRequest(f"role must be one of {', '.join(cache.ROLES)}")
    auth_id = await auth.id_by_username(app, username)
    record = await auth.get(app, auth_id) if auth_id else None
    if record is None:
        raise NotFound("User not found")
    user_id = record["userId"]
    entry = _audit({"userId": "", "username": "command line"}, f"role.{role}", "user", user_id, "")
    account = await cache.get_account(app, user_id)
    await commit(app, lambda pipe: (cache.set_state(pipe, account, {"role": role}, _now_ms()), cache.record(pipe, entry)),
                 [_change("account", user_id, cache.account_key(user_id)), *_recorded(entry)])
    return {"userId": user_id, "username": record["username"], "role": role}


async def sign_in_refusal(app: web.Application, user_id: str) -> str | None:
    """Why the user may not sign in (frozen, suspended), or None."""
    return SIGN_IN_REFUSED.get((await cache.get_account(app, user_id))["state"])


def _now_ms() -> int:
    return int(time.time() * 1000)


# --- reports ----------------------------------------------------------------------


async def _target(app: web.Application, me: str, target_type: str, target_id: str) -> str:
    """The author (owner) of what `me` reports; 404 when they may not see it."""
    if target_type == "post":
        return (await access.readable(app, me, target_id))["userId"]
    if target_type == "comment":
        comment = await comments.get(app, target_id)
        if comment is None:
            raise NotFound(comment_rules.NOT_FOUND)
        await access.readable(app, me, comment["postId"])
        if not comment_rules.sees(me, await graph.hidden_of(app, me, [comment["userId"]]), comment):
            raise NotFound(comment_rules.NOT_FOUND)
        return comment["userId"]
    if target_type == "user":
        if target_id == me:
            raise BadRequest("You cannot report yourself")
        return (await profiles.visible(app, me, target_id))["_id"]
    message = await chat.message(app, target_id)
    if message is None or me not in (message.get("senderId"), message.get("receiverId")):
        raise NotFound("Message not found")
    return message["senderId"]


async def report(app: web.Application, me: str, data: dict) -> dict:
    """File a report: at most REPORT_RATE_LIMIT a minute (tries that fail count too), one open per
    reporter and target."""
    limit = ratelimit.limit("reports", f"user:{me}", app[SETTINGS].report_rate_limit)
    if limit is not None:
        ratelimit.enforce(limit, await read_one(app, ratelimit.count(limit)))
    owner = await _target(app, me, data["targetType"], data["targetId"])
    if owner == me:
        raise BadRequest("You cannot report yourself")
    if await cache.open_report_on(app, me, f"{data['targetType']}:{data['targetId']}"):
        raise ApiError(DUPLICATE, 409)  # checked again inside the write, for concurrent reports
    at = now_iso()
    doc = {"_id": str(ObjectId()), "reporterId": me, "targetType": data["targetType"], "targetId": data["targetId"],
           "targetUserId": owner, "category": data["category"], "comment": data.get("comment") or "",
           "status": "open", "assignedTo": "", "notes": [], "createdAt": at, "updatedAt": at, "resolvedAt": ""}
    [done] = await commit(app, lambda pipe: cache.open_report(pipe, doc),
                          [_change("report", doc["_id"], cache.report_key(doc["_id"]))])
    if isinstance(done, Refused):
        raise ApiError(DUPLICATE, 409)
    return doc


async def reports(app: web.Application, status: str, at: pages.Cursor) -> list[dict]:
    return await cache.reports_page(app, status, at)


def _report_fields(report: dict, actor: dict, action: str, note: str) -> dict:
    at = now_iso()
    fields = {"updatedAt": at, "notes": [*report.get("notes", []), {"by": actor["userId"], "action": action,
                                                                      "note": note, "at": at}]}
    if action == "assign":
        fields["assignedTo"] = actor["userId"]
    elif action == "resolve":
        fields |= {"status": "resolved", "resolvedAt": at}
    else:
        fields |= {"status": "open", "resolvedAt": ""}
    return fields


async def _report(app: web.Application, report_id: str) -> dict:
    found = await cache.get_report(app, report_id)
    if found is None:
        raise NotFound(REPORT_NOT_FOUND)
    return found


async def update_report(app: web.Application, actor: dict, report_id: str, action: str, note: str) -> dict:
    found = await _report(app, report_id)
    fields = _report_fields(found, actor, action, note)
    entry = _audit(actor, f"report.{action}", "report", report_id, note)
    [done, _] = await commit(app, lambda pipe: (cache.change_report(pipe, found, fields), cache.record(pipe, entry)),
                             [_change("report", report_id, cache.report_key(report_id)), *_recorded(entry)])
    if isinstance(done, Refused):
        raise ApiError("The reporter has another open report on this target", 409)
    return {**found, **fields}


# --- takedowns ----------------------------------------------------------------------


async def take_down(app: web.Application, actor: dict, target_type: str, target_id: str, down: bool,
                    reason: str) -> None:
    """Take a post or a comment down (or restore it): its author alone sees it then, marked
    `takenDown`; everyone else loses it from every list, count and event."""
    action = f"{target_type}.{'takedown' if down else 'restore'}"
    entry = _audit(actor, action, target_type, target_id, reason)
    if target_type == "post":
        post = await posts.get(app, target_id)
        if post is None:
            raise NotFound(access.NOT_FOUND)
        before = await access.audience(app, post)
        done = await commit(app, lambda pipe: (posts.update(pipe, post, {"takenDown": down}), cache.record(pipe, entry)),
                            [_change("post", target_id, posts.key(target_id)), *_recorded(entry)])
        if isinstance(done[0], Refused):  # deleted meanwhile
            raise NotFound(access.NOT_FOUND)
        if down:
            await access.emit(app, "delete post", target_id, before.minus(access.Audience(False, frozenset({post["userId"]}))))
        return
    comment = await comments.get(app, target_id)
    if comment is None:
        raise NotFound(comment_rules.NOT_FOUND)
    [done, *_] = await commit(app, lambda pipe: (comments.takedown(pipe, comment, down), cache.record(pipe, entry)),
                              [_change("comment", target_id, comments.key(target_id)),
                               _change("post", comment["postId"], posts.key(comment["postId"])), *_recorded(entry)])
    if isinstance(done, Refused):  # deleted meanwhile
        raise NotFound(comment_rules.NOT_FOUND)


# --- account actions ------------------------------------------------------------------


async def act(app: web.Application, actor: dict, user_id: str, kind: str, reason: str, report_id: str | None) -> dict:
    """warn | limit | freeze | suspend | unsuspend the user: the account's new standing, the report
    it answers resolved, an audit entry and an e-mail (and, for a warning, a notification) in one
    transaction; a freeze or a suspension then ends every session (tokens and sockets)."""
    if user_id == actor["userId"]:
        raise BadRequest("You cannot act on your own account")
    user = await users.require(app, user_id)
    target, mine = await cache.get_account(app, user_id), await cache.get_account(app, actor["userId"])
    if target["role"] in cache.STAFF and mine["role"] != "admin":
        raise Forbidden("Only an admin can act on a moderator's or an admin's account")
    found = await _report(app, report_id) if report_id else None
    if found is not None and found.get("targetUserId") != user_id:
        raise BadRequest("That report is not about this account")
    entry = _audit(actor, f"account.{kind}", "user", user_id, reason)
    report_fields = found and _report_fields(found, actor, "resolve", f"{kind}: {reason}")
    state = STATE_OF.get(kind)
    mail = {"username": user["username"], "action": ACTION_WORDS[kind], "reason": reason or "-",
            "date": datetime.now(timezone.utc).strftime("%d/%m/%Y %H:%M")}
    warning = kind == "warn" and queues.stamp({
        "userTo": user_id, "userFrom": user_id, "notificationType": "moderation",  # which moderator: not told
        "message": f"You were warned by the moderators: {reason or 'no reason given'}", "entityId": user_id,
        "createdItemId": entry["_id"]})
    key = entry["_id"]  # one e-mail however often the commit is tried

    def write(pipe) -> None:
        if state is not None:
            cache.set_state(pipe, target, {"state": state, "reason": reason, "stateAt": entry["createdAt"]}, _now_ms())
            posts.sums_changed(pipe)
        if found is not None:
            cache.change_report(pipe, found, report_fields)
        cache.record(pipe, entry)

    def jobs(pipe) -> None:
        queues.email(pipe, "account-action", user["email"], mail, key=key)
        if warning:
            queues.notify(pipe, warning)

    changes = [*_recorded(entry)]
    if state is not None:
        changes.append(_change("account", user_id, cache.account_key(user_id)))
    if found is not None:
        changes.append(_change("report", found["_id"], cache.report_key(found["_id"])))
    await commit(app, write, changes, jobs=jobs)
    if state in ("frozen", "suspended"):
        await sessions.end(app, user_id)
    return {"userId": user_id, "state": state or target["state"], "action": kind}


async def audit(app: web.Application, at: pages.Cursor) -> list[dict]:
    return await cache.audit_page(app, at)
