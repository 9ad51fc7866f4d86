"""Field builders that speak the contract's validation messages."""
from __future__ import annotations

import unicodedata

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from mysocial.core.mongo import is_oid


KB, MB = 1024, 1024 * 1024
SMALL_BODY = 64 * KB  # every body but those that carry media
IMAGE_BODY = 10 * MB  # a base64 image: signup's avatar, image posts, profile and background images, chat images
VIDEO_BODY = 50 * MB  # a base64 video


class Body(Schema):
    """Request bodies: unknown keys are ignored, as old clients send extras. `LIMIT`: the largest
    body the route reads (core.http.body answers 413 beyond it)."""

    LIMIT = SMALL_BODY

    class Meta:
        unknown = EXCLUDE


def text(label: str, *, required: bool = True, min: int | None = None, max: int | None = None,
         invalid: str | None = None, missing: str | None = None, rules: tuple = (), **kwargs) -> fields.String:
    """`Username is a required field`, `Invalid username`, `Username must be of type string`."""
    length = [validate.Length(min=min, max=max, error=invalid or f"Invalid {label.lower()}")] if (min or max) else []
    rules = [*length, *rules]
    return fields.String(
        required=required,
        validate=rules,
        error_messages={
            "required": missing or f"{label} is a required field",
            "null": f"{label} must be of type string",
            "invalid": f"{label} must be of type string",
        },
        **kwargs,
    )


def optional_text(label: str, max: int = 10_000) -> fields.String:
    return fields.String(
        allow_none=False,
        validate=validate.Length(max=max, error=f"{label} is too long"),
        error_messages={"invalid": f"{label} must be of type string", "null": f"{label} must be of type string"},
    )


class StrictBoolean(fields.Boolean):
    """JSON `true` or `false` only: marshmallow's Boolean takes 1, 0 and 1.0 too (1 == True)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def flag(label: str) -> fields.Boolean:
    return StrictBoolean(error_messages={"invalid": f"{label} must be a boolean", "null": f"{label} must be a boolean"})


class Printable(validate.Validator):
    """No control, format (zero-width, bidi overrides), unassigned or private-use characters, no
    separators (spaces), and not blank: what a name shown to others may hold."""

    def __init__(self, error: str):
        self.error = error

    def __call__(self, value: str) -> str:
        if not value or any(unicodedata.category(c)[0] in "CZ" for c in value):
            raise ValidationError(self.error)
        return value


def prop(missing: str, *rules, invalid: str | None = None) -> fields.String:
    """A required string in the style of reaction and comment bodies: `postId is a required property`."""
    return fields.String(required=True, validate=list(rules),
                         error_messages={"required": missing, "null": missing, "invalid": invalid or missing})


class ObjectIdString(validate.Validator):
    """A canonical id (core.mongo.is_oid); with `allow_empty`, also ''."""

    def __init__(self, error: str, allow_empty: bool = False):
        self.error = error
        self.allow_empty = allow_empty

    def __call__(self, value: str) -> str:
        if not (is_oid(value) or (self.allow_empty and value == "")):
            raise ValidationError(self.error)
        return value
