"""The e-mail port, used by the e-mail worker only (it blocks; workers are synchronous).

`Outbox` writes each message as a JSON file under OUTBOX_DIR and logs it;
`SendGridMail` is used when SENDGRID_API_KEY is set.
"""
from __future__ import annotations

import json
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Protocol

from mysocial.config import Settings

log = logging.getLogger("mysocial.mail")


class Mailer(Protocol):
    def send(self, to: str, subject: str, html: str) -> None: ...


class Outbox:
    def __init__(self, folder: str, sender: str):
        self.folder = Path(folder)
        self.sender = sender

    def send(self, to: str, subject: str, html: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.json"
        tmp = self.folder / f".{name}"
        tmp.write_text(json.dumps({"from": self.sender, "to": to, "subject": subject, "html": html}))
        os.replace(tmp, self.folder / name)
        log.info("e-mail to %s written to outbox: %s", to, subject)


class SendGridMail:
    def __init__(self, api_key: str, sender: str):
        from sendgrid import SendGridAPIClient

        self.client = SendGridAPIClient(api_key)
        self.sender = sender

    def send(self, to: str, subject: str, html: str) -> None:
        from sendgrid.helpers.mail import Mail

        self.client.send(Mail(from_email=self.sender, to_emails=to, subject=subject, html_content=html))


def make_mailer(settings: Settings) -> Mailer:
    if settings.sendgrid_api_key:
        return SendGridMail(settings.sendgrid_api_key, settings.sender_email)
    return Outbox(settings.outbox_dir, settings.sender_email)


def read_outbox(folder: str) -> list[dict]:
    """Messages in the outbox, oldest first (for operators and tests)."""
    path = Path(folder)
    if not path.exists():
        return []
    return [json.loads(p.read_text()) for p in sorted(path.glob("[0-9]*.json"))]
