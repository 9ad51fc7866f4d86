"""Post bodies, with the original's messages (src/features/post/schemes/post.schemes.ts): every
field optional and null or '' allowed, but the image of an image post and the video of a video
post. MySocial adds choices for `privacy` and `feelings` and caps on lengths."""
from __future__ import annotations

from marshmallow import Schema, fields

from mysocial.core.answers import Out, answer, count, many, text
from mysocial.core.schemas import IMAGE_BODY, SMALL_BODY, VIDEO_BODY, Body, longest, one_of, optional, string
from mysocial.users.schemas import PublicUserDoc

PRIVACY = ("Public", "Followers", "Private")
FEELINGS = ("like", "love", "happy", "wow", "sad", "angry")


def fields_of_a_post() -> dict:
    return {
        "post": optional(validate=longest("Post", 10_000)),
        "bgColor": optional(validate=longest("Background color", 64)),
        "privacy": optional(validate=one_of("Privacy", PRIVACY)),
        "feelings": optional(validate=one_of("Feelings", FEELINGS)),
        "gifUrl": optional(validate=longest("Gif url", 2048)),
        "profilePicture": optional(validate=longest("Profile picture", 2048)),
        "imgVersion": optional(validate=longest("Image version", 64)),
        "imgId": optional(validate=longest("Image id", 256)),
        "videoVersion": optional(validate=longest("Video version", 64)),
        "videoId": optional(validate=longest("Video id", 256)),
    }


def image() -> object:
    return string(required=True, messages={"any.required": "Image is a required field",
                                           "string.empty": "Image property is not allowed to be empty"})


def video() -> object:
    return string(required=True, messages={"any.required": "Video is required",
                                           "string.empty": "Video property is not allowed to be empty"})


def schema(name: str, fields: dict, limit: int) -> type[Schema]:
    """A body schema whose fields keep the original's order (the first failing rule is reported)."""
    made = Body.from_dict(fields, name=name)
    made.LIMIT = limit
    return made


PostSchema = schema("PostSchema", {**fields_of_a_post(), "image": optional(), "video": optional()}, SMALL_BODY)
ImagePostSchema = schema("ImagePostSchema", {"image": image(), **fields_of_a_post(), "video": optional()}, IMAGE_BODY)
VideoPostSchema = schema("VideoPostSchema", {"video": video(), "image": optional(), **fields_of_a_post()}, VIDEO_BODY)
# Edits take the same bodies: a plain edit the first, an image (video) edit an image (video) or
# the id of the one the post has (mysocial.posts.routes).
UpdateSchema = PostSchema
ImageUpdateSchema = schema("ImageUpdateSchema", {**fields_of_a_post(), "image": optional(), "video": optional()},
                           IMAGE_BODY)
VideoUpdateSchema = schema("VideoUpdateSchema", {**fields_of_a_post(), "image": optional(), "video": optional()},
                           VIDEO_BODY)


# Answers (mysocial.core.answers) -------------------------------------------------------------


class PostDoc(Out):
    _id = text()
    userId = text()
    username = text()
    email = text()
    avatarColor = text()
    profilePicture = text()
    post = text()
    bgColor = text()
    feelings = text()
    privacy = fields.String(required=True, metadata={"enum": list(PRIVACY)})
    gifUrl = text()
    commentsCount = count()
    imgVersion = text()
    imgId = text()
    videoVersion = text()
    videoId = text()
    reactions = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    createdAt = text()


FeedAnswer = answer("FeedAnswer", posts=many(PostDoc), totalPosts=count())
MediaFeedAnswer = answer("MediaFeedAnswer", posts=many(PostDoc))
PostAnswer = answer("PostAnswer", post=fields.Nested(PostDoc, required=True))
ProfilePostsAnswer = answer("ProfilePostsAnswer", user=fields.Nested(PublicUserDoc, required=True), posts=many(PostDoc))
