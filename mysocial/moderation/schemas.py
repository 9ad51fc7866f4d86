"""Moderation bodies and answers."""
from __future__ import annotations

from marshmallow import fields, validate

from mysocial.core.answers import Out, answer, many, text
from mysocial.core.pages import CursorQuery
from mysocial.core.schemas import Body, ObjectIdString, longest, optional, string

TARGETS = ("post", "comment", "user", "message")
CATEGORIES = ("spam", "abuse", "illegal", "other")
REPORT_ACTIONS = ("assign", "resolve", "reopen")
ACCOUNT_ACTIONS = ("warn", "limit", "freeze", "suspend", "unsuspend")
STATUSES = ("open", "resolved")


def choice(label: str, choices: tuple[str, ...]):
    return string(required=True, validate=validate.OneOf(choices, error=f"Invalid {label}"))


def reason(label: str = "Reason"):
    return optional(validate=longest(label, 1000))


class ReportSchema(Body):
    targetType = choice("target type", TARGETS)
    targetId = string(required=True, validate=ObjectIdString("Invalid target id"))
    category = choice("category", CATEGORIES)
    comment = reason("Comment")


class ReportUpdateSchema(Body):
    action = choice("action", REPORT_ACTIONS)
    note = reason("Note")


class TakedownSchema(Body):
    reason = reason()


class AccountActionSchema(Body):
    type = choice("action", ACCOUNT_ACTIONS)
    reason = reason()
    reportId = optional(validate=ObjectIdString("Invalid report id", allow_empty=True))


class ReportsQuery(CursorQuery):
    status = fields.String(metadata={"enum": list(STATUSES), "description": "open (the default) or resolved"})


class Note(Out):
    by = text()
    action = text()
    note = text()
    at = text()


class ReportDoc(Out):
    _id = text()
    reporterId = text()
    targetType = text()
    targetId = text()
    targetUserId = text()
    category = text()
    comment = text()
    status = text()
    assignedTo = text()
    notes = many(Note)
    createdAt = text()
    updatedAt = text()
    resolvedAt = text()


class AuditDoc(Out):
    _id = text()
    actorId = text()
    actorName = text()
    action = text()
    targetType = text()
    targetId = text()
    reason = text()
    createdAt = text()


ReportAnswer = answer("ReportAnswer", report=fields.Nested(ReportDoc, required=True))
ReportsAnswer = answer("ReportsAnswer", reports=many(ReportDoc))
AuditAnswer = answer("AuditAnswer", audit=many(AuditDoc))
ActionAnswer = answer("ActionAnswer", userId=text(), state=text(), action=text())
