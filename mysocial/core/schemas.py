"""Request fields that fail with the original back end's messages, rule for rule.

The original validates with Joi; each of its schemes names a message for some rules and leaves
Joi's default for the others (`"username" is required`). `string`, `boolean`, `number` and
`obj` take the same rules and the same `messages` keys as Joi (`any.required`, `string.base`,
`string.empty`, `string.min`, `string.max`, `string.email`, `any.only`, …), so a scheme here
reads like the original's. Rules of MySocial's own (canonical ids, lengths, choices) run after
Joi's and carry their own messages.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from mysocial.core.mongo import is_oid

KB, MB = 1024, 1024 * 1024
SMALL_BODY = 64 * KB  # every body but those that carry media
IMAGE_BODY = 10 * MB  # a base64 image: signup's avatar, image posts, profile and background images, chat images
VIDEO_BODY = 50 * MB  # a base64 video

JOI_DEFAULTS = {
    "any.required": '"{key}" is required',
    "string.base": '"{key}" must be a string',
    "string.empty": '"{key}" is not allowed to be empty',
    "string.min": '"{key}" length must be at least {limit} characters long',
    "string.max": '"{key}" length must be less than or equal to {limit} characters long',
    "string.email": '"{key}" must be a valid email',
    "boolean.base": '"{key}" must be a boolean',
    "number.base": '"{key}" must be a number',
    "object.base": '"{key}" must be of type object',
}
# Joi's email rule, near enough: one @, a dot in the domain, no spaces.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class Body(Schema):
    """Request bodies: unknown keys are ignored, as old clients send extras. `LIMIT`: the largest
    body the route reads (core.http.body answers 413 beyond it)."""

    LIMIT = SMALL_BODY

    class Meta:
        unknown = EXCLUDE


class _Keep(dict):
    def __missing__(self, name: str) -> str:
        return "{" + name + "}"


class _Joi:
    """Messages by Joi's rule names, formatted with the field's key once it is bound."""

    base_rule = "any.base"

    def _setup(self, messages: dict | None, **values: Any) -> None:
        self._joi = {**JOI_DEFAULTS, **(messages or {})}
        self._values = values

    def _bind_to_schema(self, field_name, parent):
        super()._bind_to_schema(field_name, parent)
        key = self.data_key or field_name
        for rule, text in self._joi.items():
            self.error_messages[rule] = text.replace("{#limit}", "{limit}").format_map(_Keep(key=key, **self._values))
        self.error_messages["required"] = self.error_messages["any.required"]
        self.error_messages["null"] = self.error_messages[self.base_rule]
        self.error_messages["invalid"] = self.error_messages[self.base_rule]


class JoiString(_Joi, fields.String):
    base_rule = "string.base"

    def __init__(self, *, required: bool = False, blank: bool = False, min: int | None = None,
                 max: int | None = None, email: bool = False, messages: dict | None = None, **kwargs):
        """`blank`: null and '' are allowed (Joi's `.allow(null, '')`)."""
        super().__init__(required=required, allow_none=blank, **kwargs)
        self.blank, self.min, self.max, self.email = blank, min, max, email
        self._setup(messages)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("string.base")
        if value == "":
            if self.blank:
                return value
            raise self.make_error("string.empty")
        if self.min is not None and len(value) < self.min:
            raise ValidationError(self.error_messages["string.min"].format(limit=self.min))
        if self.max is not None and len(value) > self.max:
            raise ValidationError(self.error_messages["string.max"].format(limit=self.max))
        if self.email and not EMAIL.match(value):
            raise self.make_error("string.email")
        return value


class JoiBoolean(_Joi, fields.Boolean):
    """JSON `true` or `false` only: marshmallow's Boolean takes 1, 0 and 1.0 too (1 == True), and
    Joi the strings 'true' and 'false'; neither is a boolean."""

    base_rule = "boolean.base"

    def __init__(self, *, required: bool = False, messages: dict | None = None, **kwargs):
        super().__init__(required=required, **kwargs)
        self._setup(messages)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("boolean.base")
        return value


class JoiNumber(_Joi, fields.Raw):
    """Joi's `number().optional().allow(null, '')`: a number, null or ''; never used for anything."""

    base_rule = "number.base"

    def __init__(self, *, messages: dict | None = None, **kwargs):
        super().__init__(allow_none=True, **kwargs)
        self._setup(messages)

    def _deserialize(self, value, attr, data, **kwargs):
        if value == "" or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            return value
        raise self.make_error("number.base")


class JoiObject(_Joi, fields.Raw):
    """Joi's `object().optional().allow(null, '')`: an object, null or ''."""

    base_rule = "object.base"

    def __init__(self, *, messages: dict | None = None, **kwargs):
        super().__init__(allow_none=True, **kwargs)
        self._setup(messages)

    def _deserialize(self, value, attr, data, **kwargs):
        if value == "" or isinstance(value, dict):
            return value
        raise self.make_error("object.base")


def string(**kwargs) -> JoiString:
    return JoiString(**kwargs)


def optional(**kwargs) -> JoiString:
    """Joi's `string().optional().allow(null, '')`, the most common field of the original."""
    return JoiString(blank=True, **kwargs)


def boolean(**kwargs) -> JoiBoolean:
    return JoiBoolean(**kwargs)


def number(**kwargs) -> JoiNumber:
    return JoiNumber(**kwargs)


def obj(**kwargs) -> JoiObject:
    return JoiObject(**kwargs)


class Printable(validate.Validator):
    """No control, format (zero-width, bidi overrides), unassigned or private-use characters, no
    separators (spaces), and not blank: what a name shown to others may hold."""

    def __init__(self, error: str):
        self.error = error

    def __call__(self, value: str) -> str:
        if not value or any(unicodedata.category(c)[0] in "CZ" for c in value):
            raise ValidationError(self.error)
        return value


class ObjectIdString(validate.Validator):
    """A canonical id (core.mongo.is_oid); with `allow_empty`, also ''."""

    def __init__(self, error: str, allow_empty: bool = False):
        self.error = error
        self.allow_empty = allow_empty

    def __call__(self, value: str) -> str:
        if not (is_oid(value) or (self.allow_empty and value == "")):
            raise ValidationError(self.error)
        return value


def longest(label: str, max: int) -> validate.Length:
    """MySocial's own cap on a field the original left unbounded."""
    return validate.Length(max=max, error=f"{label} is too long")


def one_of(label: str, choices: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf((*choices, ""), error=f"Invalid {label.lower()}")
