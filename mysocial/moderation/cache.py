"""Moderation in Redis.

- `account:<userId>` hash: the user's `role` (user, moderator, admin) and `state` (active, limited,
  frozen, suspended), with the reason and time of the last change. Read through from MongoDB; a
  user never moderated has none, and reads as a plain active user.
- `accounts:limited`, `accounts:suspended`: sorted sets of the users in that state (the indexes
  of the same names, rebuilt from MongoDB; `gone:account:<state>`: who left it within a day): what
  readers are filtered by (mysocial.graph).
- `report:<id>` hash; the index group `reports`: `reports:open`, `reports:resolved` (sorted sets
  by filing time) and `reported:<reporterId>` (target `<type>:<id>` -> the reporter's open report
  on it: one open report per reporter and target).
- `audit:<id>` hash; `audits:all`, the log by time (append-only: nothing removes an entry).
"""
from __future__ import annotations

from aiohttp import web

from mysocial.core import cache, functions, indexes, pages
from mysocial.core.appkeys import BATCH, MONGO
from mysocial.core.cache import ms
from mysocial.core.mongo import now_iso
from mysocial.core.reads import Read, read_one
from mysocial.core.redis import prefixed, to_hash
from mysocial.moderation import store

ROLES = ("user", "moderator", "admin")
STAFF = ("moderator", "admin")
STATES = ("active", "limited", "frozen", "suspended")
HIDDEN_STATES = ("limited", "suspended")  # those with a set of their own


def default_account(user_id: str) -> dict:
    return {"_id": user_id, "role": "user", "state": "active", "reason": "", "stateAt": "", "createdAt": now_iso()}


ACCOUNT = cache.kind("account", "account:", lambda app, uid: store.find_account(app[MONGO], uid))
account_key = ACCOUNT.key
IN_STATE = {state: indexes.listing(f"accounts:{state}", "accounts", f"gone:account:{state}",
                                   lambda app, _owner, state=state: store.in_state(app[MONGO], state))
            for state in HIDDEN_STATES}
limited_key, suspended_key = IN_STATE["limited"].key(""), IN_STATE["suspended"].key("")
LIMITED, SUSPENDED = IN_STATE["limited"].index(""), IN_STATE["suspended"].index("")

async def get_account(app: web.Application, user_id: str) -> dict:
    """The user's account (role, state): a plain active user's if they have none."""
    return await cache.get(app, ACCOUNT, user_id) or default_account(user_id)


def set_state(pipe, account: dict, fields: dict, now_ms: int) -> None:
    """Change fields of the account (as read: `get_account`), `state` among them or `role`; the
    result: the state before."""
    user_id = account["_id"]
    functions.call(pipe, "account_state",
                   [account_key(user_id), limited_key, suspended_key, LIMITED.marker, SUSPENDED.marker,
                    IN_STATE["limited"].gone, IN_STATE["suspended"].gone],
                   {"id": user_id, "state": fields.get("state"), "now": now_ms, "keep_ms": cache.GONE_FOR_MS,
                    "base": [v.decode() if isinstance(v, bytes) else v for v in functions.flat(to_hash(account))]},
                   *functions.flat(to_hash(fields)))


# --- reports ----------------------------------------------------------------------

REPORT = cache.kind("report", "report:", lambda app, rid: store.find_report(app[MONGO], rid))
report_key = REPORT.key
OPEN, RESOLVED = "reports:open", "reports:resolved"
LISTS = {"open": OPEN, "resolved": RESOLVED}
reported_key = prefixed("reported:")


def target_of(report: dict) -> str:
    return f"{report['targetType']}:{report['targetId']}"


async def _report_chunks(app: web.Application):
    async for rows in indexes.chunked(store.report_rows(app[MONGO])):
        keys = [OPEN, RESOLVED, REPORT.gone]
        slots: dict[str, int] = {}
        entries = []
        for row in rows:
            if row["reporterId"] not in slots:
                keys.append(reported_key(row["reporterId"]))
                slots[row["reporterId"]] = len(keys)
            entries.append([row["_id"], ms(row["createdAt"]), row["status"], slots[row["reporterId"]], target_of(row)])
        yield lambda pipe, keys=keys, entries=entries: functions.call(pipe, "reports_merge", keys, {"entries": entries})


REPORTS = indexes.Index("reports", "reports", _report_chunks)
indexes.family("reports", lambda rest: REPORTS)


def open_report(pipe, report: dict) -> None:
    """File it; the result is 1, or a Refused `duplicate <open report id>`."""
    functions.call(pipe, "report_open",
                   [report_key(report["_id"]), REPORT.gone, OPEN, reported_key(report["reporterId"]), REPORTS.marker],
                   {"id": report["_id"], "score": ms(report["createdAt"]), "target": target_of(report)},
                   *functions.flat(to_hash(report)))


def change_report(pipe, report: dict, fields: dict) -> None:
    """Change `fields` of the report (as read before) and list it under its status."""
    after = {**report, **fields}
    functions.call(pipe, "report_status",
                   [report_key(report["_id"]), OPEN, RESOLVED, reported_key(report["reporterId"]), REPORTS.marker],
                   {"id": report["_id"], "score": ms(report["createdAt"]), "status": after["status"],
                    "target": target_of(report)}, *functions.flat(to_hash(fields)))


async def open_report_on(app: web.Application, reporter: str, target: str) -> str | None:
    """The id of the reporter's open report on `target` (`<type>:<id>`), if there is one."""
    await indexes.ensure(app, REPORTS)
    [found] = await app[BATCH].run(lambda pipe: pipe.hget(reported_key(reporter), target))
    return found.decode() if found else None


async def get_report(app: web.Application, report_id: str) -> dict | None:
    return await cache.get(app, REPORT, report_id)


async def _page(app: web.Application, kind: cache.Kind, index: indexes.Index, list_key: str,
                at: pages.Cursor) -> list[dict]:
    return await cache.get_many(app, kind, await pages.ids(app, list_key, index, at))


async def reports_page(app: web.Application, status: str, at: pages.Cursor) -> list[dict]:
    return await _page(app, REPORT, REPORTS, LISTS[status], at)


# --- the audit log ----------------------------------------------------------------------

AUDIT = cache.kind("audit", "audit:", lambda app, eid: store.find_audit(app[MONGO], eid))
audit_key = AUDIT.key
LOG = indexes.listing("audits:", "audit", AUDIT.gone, lambda app, owner: store.audit_entries(app[MONGO], owner))
LOG_KEY = LOG.key("all")


def record(pipe, entry: dict) -> None:
    cache.add(pipe, AUDIT, entry, ms(entry["createdAt"]), [LOG_KEY])


async def audit_page(app: web.Application, at: pages.Cursor) -> list[dict]:
    return await _page(app, AUDIT, LOG.index("all"), LOG_KEY, at)


# --- who readers must not see (mysocial.graph reads these) ------------------------------

def _of_state(state: str, command, convert, again) -> Read:
    """A read of the users in `state` (`command` on its set, its reply `convert`ed); the index
    completed first when it is not (then `again()`)."""
    listing = IN_STATE[state]
    index = listing.index("")

    async def finish(app: web.Application, replies: list):
        if replies[0]:
            return convert(replies[1])
        await indexes.ensure(app, index)
        return await read_one(app, again())

    return Read(lambda pipe: (pipe.exists(index.marker), command(pipe, listing.key(""))), 2, finish)


def in_state(state: str) -> Read:
    """Everyone in `state` (limited, suspended), as a `Read` of a set."""
    return _of_state(state, lambda pipe, key: pipe.zrange(key, 0, -1), lambda found: {m.decode() for m in found},
                     lambda: in_state(state))


def is_in(state: str, user_id: str) -> Read:
    """Whether the user is in `state`: one member read, not the whole set."""
    return _of_state(state, lambda pipe, key: pipe.zscore(key, user_id), lambda score: score is not None,
                     lambda: is_in(state, user_id))
