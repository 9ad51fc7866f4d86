from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from mysocial.core.schemas import IMAGE_BODY, Body, Printable, text

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def email_field(invalid: str, missing: str = "Email is a required field") -> fields.String:
    return fields.String(
        required=True,
        validate=[validate.Length(max=254, error=invalid), validate.Regexp(EMAIL_PATTERN, error=invalid)],
        error_messages={"required": missing, "invalid": invalid, "null": invalid},
    )


class SignupSchema(Body):
    LIMIT = IMAGE_BODY
    username = text("Username", min=4, max=8, rules=(Printable("Invalid username"),))
    password = text("Password", min=4, max=8)
    email = email_field("Email must be valid")
    avatarColor = text("Avatar color", min=1, max=32, invalid="Avatar color is required", missing="Avatar color is required")
    avatarImage = text("Avatar image", min=1, invalid="Avatar image is required", missing="Avatar image is required")


class SigninSchema(Body):
    username = text("Username", min=4, max=8)
    password = text("Password", min=4, max=8)


class ForgotSchema(Body):
    email = email_field("Field must be valid", missing="Field must be valid")


class ResetSchema(Body):
    password = text("Password", min=4, max=8, invalid="Invalid password")
    confirmPassword = text("Confirm password", min=0)

    @validates_schema
    def same(self, data, **kwargs):
        if data.get("password") != data.get("confirmPassword"):
            raise ValidationError("Passwords should match", "confirmPassword")
