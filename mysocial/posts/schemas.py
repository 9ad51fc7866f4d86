"""Post bodies. Optional text fields accept null or "" (old clients send both)."""
from __future__ import annotations

from marshmallow import fields, validate

from mysocial.core.schemas import IMAGE_BODY, VIDEO_BODY, Body

PRIVACY = ("Public", "Followers", "Private")
FEELINGS = ("like", "love", "happy", "wow", "sad", "angry")


def loose(label: str, max: int = 2048, choices: tuple[str, ...] | None = None) -> fields.String:
    rules = [validate.Length(max=max, error=f"{label} is too long")]
    if choices:
        rules.append(validate.OneOf((*choices, ""), error=f"Invalid {label.lower()}"))
    return fields.String(allow_none=True, validate=rules,
                         error_messages={"invalid": f"{label} must be of type string"})


def media(label: str, missing: str) -> fields.String:
    """`Image is a required field` / `Image property is not allowed to be empty`."""
    return fields.String(
        required=True,
        validate=validate.Length(min=1, error=f"{label} property is not allowed to be empty"),
        error_messages={"required": missing, "null": missing, "invalid": f"{label} must be of type string"},
    )


class PostSchema(Body):
    post = loose("Post", 10_000)
    bgColor = loose("Background color", 64)
    privacy = loose("Privacy", choices=PRIVACY)
    feelings = loose("Feelings", choices=FEELINGS)
    gifUrl = loose("Gif url")
    profilePicture = loose("Profile picture")


class ImagePostSchema(PostSchema):
    LIMIT = IMAGE_BODY
    image = media("Image", "Image is a required field")


class VideoPostSchema(PostSchema):
    LIMIT = VIDEO_BODY
    video = media("Video", "Video is required")


class UpdateSchema(PostSchema):
    imgId = loose("Image id", 256)
    imgVersion = loose("Image version", 64)
    videoId = loose("Video id", 256)
    videoVersion = loose("Video version", 64)


class ImageUpdateSchema(UpdateSchema):
    LIMIT = IMAGE_BODY
    image = loose("Image", IMAGE_BODY)


class VideoUpdateSchema(UpdateSchema):
    LIMIT = VIDEO_BODY
    video = loose("Video", VIDEO_BODY)
