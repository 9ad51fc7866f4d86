"""Auth bodies, with the original's messages (src/features/auth/schemes/*.ts)."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from mysocial.core.answers import Out, answer, maybe_text, text
from mysocial.core.schemas import IMAGE_BODY, Body, Printable, string
from mysocial.users.schemas import UserDoc


def username():
    return string(required=True, min=4, max=8, validate=Printable("Invalid username"), messages={
        "string.base": "Username must be of type string", "string.min": "Invalid username",
        "string.max": "Invalid username", "string.empty": "Username is a required field"})


def password(base: str = "Password must be of type string"):
    return string(required=True, min=4, max=8, messages={
        "string.base": base, "string.min": "Invalid password", "string.max": "Invalid password",
        "string.empty": "Password is a required field"})


class SignupSchema(Body):
    LIMIT = IMAGE_BODY
    username = username()
    password = password()
    email = string(required=True, email=True, validate=validate.Length(max=254, error="Email must be valid"),
                   messages={"string.base": "Email must be of type string", "string.email": "Email must be valid",
                             "string.empty": "Email is a required field"})
    avatarColor = string(required=True, messages={"any.required": "Avatar color is required"})
    avatarImage = string(required=True, messages={"any.required": "Avatar image is required"})


class SigninSchema(Body):
    username = string(required=True, min=4, max=8, messages={
        "string.base": "Username must be of type string", "string.min": "Invalid username",
        "string.max": "Invalid username", "string.empty": "Username is a required field"})
    password = password()


class ForgotSchema(Body):
    email = string(required=True, email=True, messages={
        "string.base": "Field must be valid", "string.email": "Field must be valid"})


class ResetSchema(Body):
    password = password(base="Password should be of type string")
    # Joi's `.valid(Joi.ref('password'))`: anything but the password itself is a mismatch.
    confirmPassword = fields.Raw(required=True, allow_none=True,
                                 error_messages={"required": "Confirm password is a required field"})

    @validates_schema(skip_on_field_errors=False)
    def same(self, data, **kwargs):
        if "confirmPassword" in data and data["confirmPassword"] != data.get("password"):
            raise ValidationError("Passwords should match", "confirmPassword")


class RefreshSchema(Body):
    refreshToken = string(required=True, max=200, messages={
        "string.base": "Refresh token must be of type string", "string.empty": "Refresh token is a required field",
        "string.max": "Refresh token is invalid"})


# Answers (mysocial.core.answers) -------------------------------------------------------------

SignedInAnswer = answer("SignedInAnswer", user=fields.Nested(UserDoc, required=True), token=text(), refreshToken=text())
RefreshedAnswer = Out.from_dict({"token": text(), "refreshToken": text()}, name="RefreshedAnswer")
SignedOutAnswer = answer("SignedOutAnswer", user=fields.Dict(required=True), token=fields.String(required=True))
CurrentUserAnswer = Out.from_dict({"token": maybe_text(), "isUser": fields.Boolean(required=True),
                                   "user": fields.Nested(UserDoc, allow_none=True, required=True)},
                                  name="CurrentUserAnswer")
