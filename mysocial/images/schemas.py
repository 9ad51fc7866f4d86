"""Image bodies, as the original's (src/features/images/schemes/images.ts: Joi's own messages)."""
from __future__ import annotations

from marshmallow import fields

from mysocial.core.answers import Out, answer, many, text
from mysocial.core.schemas import IMAGE_BODY, Body, string


class ImageSchema(Body):
    LIMIT = IMAGE_BODY
    image = string(required=True)


# Answers (mysocial.core.answers) -------------------------------------------------------------


class ImageDoc(Out):
    _id = text()
    userId = text()
    bgImageVersion = text()
    bgImageId = text()
    imgVersion = text()
    imgId = text()
    createdAt = text()


ImageAnswer = answer("ImageAnswer", image=fields.Nested(ImageDoc, required=True))
ImagesAnswer = answer("ImagesAnswer", images=many(ImageDoc))
