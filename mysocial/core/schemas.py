"""Field builders that speak the contract's validation messages."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from mysocial.core.mongo import is_oid


class Body(Schema):
    """Request bodies: unknown keys are ignored, as old clients send extras."""

    class Meta:
        unknown = EXCLUDE


def text(label: str, *, required: bool = True, min: int | None = None, max: int | None = None,
         invalid: str | None = None, missing: str | None = None, **kwargs) -> fields.String:
    """`Username is a required field`, `Invalid username`, `Username must be of type string`."""
    rules = [validate.Length(min=min, max=max, error=invalid or f"Invalid {label.lower()}")] if (min or max) else []
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


def flag(label: str) -> fields.Boolean:
    return fields.Boolean(
        truthy={True}, falsy={False},
        error_messages={"invalid": f"{label} must be a boolean", "null": f"{label} must be a boolean"},
    )


def prop(missing: str, *rules, invalid: str | None = None) -> fields.String:
    """A required string in the style of reaction and comment bodies: `postId is a required property`."""
    return fields.String(required=True, validate=list(rules),
                         error_messages={"required": missing, "null": missing, "invalid": invalid or missing})


class ObjectIdString(validate.Validator):
    """A 24-hex-digit ObjectId string."""

    def __init__(self, error: str):
        self.error = error

    def __call__(self, value: str) -> str:
        if not is_oid(value):
            raise ValidationError(self.error)
        return value
