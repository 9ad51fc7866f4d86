from __future__ import annotations

from mysocial.core.schemas import Body
from mysocial.posts.schemas import media


class ImageSchema(Body):
    image = media("Image", "Image is a required field")
