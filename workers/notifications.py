"""Notification jobs. (Recording only until the notifications feature lands.)"""
from __future__ import annotations

import logging

log = logging.getLogger("mysocial.notifications")


def create(notification: dict) -> dict:
    log.info("notification for %s: %s", notification.get("userTo"), notification.get("notificationType"))
    return notification
