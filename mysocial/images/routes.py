"""Images: profile picture, background image, a user's gallery, deleting an image or the background."""
from __future__ import annotations

from aiohttp import web

from mysocial.core import security
from mysocial.core.errors import BadRequest
from mysocial.core.http import body, id_param, json_response
from mysocial.core.openapi import doc
from mysocial.images import service
from mysocial.images.schemas import ImageAnswer, ImageSchema, ImagesAnswer

ADDED = "Image added successfully"
DELETED = "Image deleted successfully"
routes = web.RouteTableDef()


async def add_image(request: web.Request, background: bool) -> web.Response:
    me = security.me(request)
    data = await body(request, ImageSchema)
    image = await service.add(request.app, me["userId"], data["image"], background)
    return json_response({"message": ADDED, "image": image})


@routes.post("/images/profile")
@doc("A new profile picture", body=ImageSchema, answer=ImageAnswer, errors=(404,))
async def profile_image(request: web.Request) -> web.Response:
    return await add_image(request, background=False)


@routes.post("/images/background")
@doc("A new background image", body=ImageSchema, answer=ImageAnswer, errors=(404,))
async def background_image(request: web.Request) -> web.Response:
    return await add_image(request, background=True)


@routes.get("/images/{userId}")
@doc("A user's images; 404 across a block", answer=ImagesAnswer, errors=(404,))
async def user_images(request: web.Request) -> web.Response:
    me = security.me(request)
    images = await service.gallery(request.app, me["userId"], id_param(request, "userId", "user id"))
    return json_response({"message": "User images", "images": images})


@routes.delete("/images/{imageId}")
@doc("Delete one of my images", errors=(404,))
async def delete_image(request: web.Request) -> web.Response:
    me = security.me(request)
    await service.delete(request.app, me["userId"], id_param(request, "imageId", "image id"))
    return json_response({"message": DELETED})


@routes.delete("/images/background/{bgImageId}")
@doc("Delete my background image", errors=(404,), params={"bgImageId": {"type": "string", "minLength": 1, "maxLength": 128}})
async def delete_background(request: web.Request) -> web.Response:
    me = security.me(request)
    bg_id = request.match_info["bgImageId"]
    if not 1 <= len(bg_id) <= 128:
        raise BadRequest("Invalid image id")
    await service.delete_background(request.app, me["userId"], bg_id)
    return json_response({"message": DELETED})
