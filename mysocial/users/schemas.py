"""Profile bodies, with the original's messages (src/features/user/schemes/info.ts)."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validates_schema

from mysocial.core.answers import Out, answer, count, ids, many, text
from mysocial.core.schemas import Body, boolean, longest, optional, string


def password():
    return string(required=True, min=4, max=8, messages={
        "string.base": "Password should be a type of string",
        "string.min": "Password must have a minimum length of {#limit}",
        "string.max": "Password should have a maximum length of {#limit}",
        "string.empty": "Password is a required field"})


class ChangePasswordSchema(Body):
    currentPassword = password()
    newPassword = password()
    # Joi's `any().equal(Joi.ref('newPassword')).required()`
    confirmPassword = fields.Raw(required=True, allow_none=True,
                                 error_messages={"required": '"confirmPassword" is required'})

    @validates_schema(skip_on_field_errors=False)
    def same(self, data, **kwargs):
        if "confirmPassword" in data and data["confirmPassword"] != data.get("newPassword"):
            raise ValidationError("Confirm password does not match new password.", "confirmPassword")


class BasicInfoSchema(Body):
    quote = optional(validate=longest("Quote", 500))
    work = optional(validate=longest("Work", 200))
    school = optional(validate=longest("School", 200))
    location = optional(validate=longest("Location", 200))


class SocialLinksSchema(Body):
    facebook = optional(validate=longest("Facebook", 500))
    instagram = optional(validate=longest("Instagram", 500))
    twitter = optional(validate=longest("Twitter", 500))
    youtube = optional(validate=longest("Youtube", 500))


class SettingsSchema(Body):
    messages = boolean()
    reactions = boolean()
    comments = boolean()
    follows = boolean()


# Answers (mysocial.core.answers) -------------------------------------------------------------


class PublicUserDoc(Out):
    """What others see of a user (mysocial.users.views.PUBLIC)."""

    _id = text()
    uId = text()
    username = text()
    avatarColor = text()
    profilePicture = text()
    postsCount = count()
    followersCount = count()
    followingCount = count()
    social = fields.Dict(keys=fields.String(), values=fields.String())
    work = fields.String()
    school = fields.String()
    quote = fields.String()
    location = fields.String()
    bgImageVersion = fields.String()
    bgImageId = fields.String()
    createdAt = text()


class UserDoc(PublicUserDoc):
    """The whole user document, for its owner."""

    authId = text()
    email = text()
    blocked = ids()
    blockedBy = ids()
    notifications = fields.Dict(keys=fields.String(), values=fields.Boolean())


class SearchHit(Out):
    _id = text()
    profilePicture = text()
    username = text()
    email = text()
    avatarColor = text()


UsersPage = answer("UsersPage", users=many(PublicUserDoc), totalUsers=count(), followers=ids())
ProfileAnswer = answer("ProfileAnswer", user=fields.Nested(UserDoc, required=True))
ProfileByIdAnswer = answer("ProfileByIdAnswer", user=fields.Nested(PublicUserDoc, required=True))
SuggestionsAnswer = answer("SuggestionsAnswer", users=many(PublicUserDoc))
SearchAnswer = answer("SearchAnswer", search=many(SearchHit))
SettingsAnswer = answer("SettingsAnswer", settings=fields.Dict(keys=fields.String(), values=fields.Boolean(),
                                                               required=True))
