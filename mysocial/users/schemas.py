from __future__ import annotations

from marshmallow import ValidationError, validates_schema

from mysocial.core.schemas import Body, flag, optional_text, text


class ChangePasswordSchema(Body):
    currentPassword = text("Password", min=4, max=8, missing="Password is a required field")
    newPassword = text("Password", min=4, max=8, missing="Password is a required field")
    confirmPassword = text("Confirm password")

    @validates_schema
    def same(self, data, **kwargs):
        if data.get("newPassword") != data.get("confirmPassword"):
            raise ValidationError("Passwords do not match.", "confirmPassword")


class BasicInfoSchema(Body):
    quote = optional_text("Quote", 500)
    work = optional_text("Work", 200)
    school = optional_text("School", 200)
    location = optional_text("Location", 200)


class SocialLinksSchema(Body):
    facebook = optional_text("Facebook", 500)
    instagram = optional_text("Instagram", 500)
    twitter = optional_text("Twitter", 500)
    youtube = optional_text("Youtube", 500)


class SettingsSchema(Body):
    messages = flag("Messages")
    reactions = flag("Reactions")
    comments = flag("Comments")
    follows = flag("Follows")
