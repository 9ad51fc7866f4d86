"""The e-mail job: render a template and send it through the e-mail port."""
from __future__ import annotations

from html import escape

from mysocial.core.appkeys import BATCH
from workers import context

TEMPLATES: dict[str, tuple[str, str]] = {
    "forgot-password": (
        "Reset your password",
        "<p>Hello {username},</p><p>You asked to reset your password. This link works once, for one hour:</p>"
        '<p><a href="{resetLink}">{resetLink}</a></p><p>If you did not ask, ignore this e-mail.</p>',
    ),
    "password-changed": (
        "Password Reset Confirmation",
        "<p>Hello {username},</p><p>The password of the account {email} was changed on {date} "
        "from IP address {ipaddress}.</p><p>If this was not you, reset your password now.</p>",
    ),
    "account-action": ("About your account",
                       "<p>Hello {username},</p><p>{action}</p><p>Reason: {reason}</p>"
                       "<p>{date}</p>"),
    "comments": ("Comment notification", "<p>Hello {username},</p><p>{message}</p><p>{header}</p>"),
    "reactions": ("Reaction notification", "<p>Hello {username},</p><p>{message}</p><p>{header}</p>"),
    "follows": ("Follower notification", "<p>Hello {username},</p><p>{message}</p><p>{header}</p>"),
    "messages": ("Direct message notification", "<p>Hello {username},</p><p>{message}</p><p>{header}</p>"),
}


class _Blank(dict):
    def __missing__(self, key):
        return ""


def render(template: str, values: dict) -> tuple[str, str]:
    subject, body = TEMPLATES[template]
    safe = _Blank({k: escape(str(v)) for k, v in values.items()})
    return subject, body.format_map(safe)


SENT_FOR = 7 * 24 * 3600
SENDING_FOR = 600


def _sent_key(key: str) -> str:
    return f"email:sent:{key}"


def send(template: str, to: str, values: dict, key: str | None = None) -> str:
    """Send once per `key` (queues.email): a job run again after it sent (a retry, a duplicate
    notification job) sends nothing; a send that failed releases the key for the retry."""
    ctx = context.get()
    subject, html = render(template, values)
    if key and not _mark(ctx, lambda pipe: pipe.set(_sent_key(key), "sending", nx=True, ex=SENDING_FOR)):
        return "already sent"
    try:
        ctx.mailer.send(to, subject, html)  # blocking I/O, in the job's thread (not on the event loop)
    except BaseException:
        if key:
            _mark(ctx, lambda pipe: pipe.delete(_sent_key(key)))
        raise
    if key:
        _mark(ctx, lambda pipe: pipe.set(_sent_key(key), "sent", ex=SENT_FOR))
    return to


def _mark(ctx: context.Context, queue):
    return ctx.run(ctx.app[BATCH].run(queue))[0]
