from __future__ import annotations

from mysocial.core.schemas import IMAGE_BODY, Body
from mysocial.posts.schemas import media


class ImageSchema(Body):
    LIMIT = IMAGE_BODY
    image = media("Image", "Image is a required field")
