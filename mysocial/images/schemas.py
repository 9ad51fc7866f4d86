"""Image bodies, as the original's (src/features/images/schemes/images.ts: Joi's own messages)."""
from __future__ import annotations

from mysocial.core.schemas import IMAGE_BODY, Body, string


class ImageSchema(Body):
    LIMIT = IMAGE_BODY
    image = string(required=True)
