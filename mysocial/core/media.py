"""The media port: images and videos from base64 data URLs.

`LocalMedia` writes files under MEDIA_DIR, served by the API at /media/;
`CloudinaryMedia` is used when CLOUDINARY_URL is set. Both run their blocking
work in a thread.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aiohttp import web

from mysocial.config import Settings
from mysocial.core.errors import BadRequest, NotFound
from mysocial.core.openapi import doc

UPLOAD_ERROR = "File upload: Error occurred. Try again."
# The label is not trusted (`data:image/html`, `image/png.html`): the bytes decide. A leading
# slash (`data:/image/png;base64,…`) is what the Chatty web client's renameFile produces.
_DATA_URL = re.compile(r"^data:/?(?P<type>image|video)/[\w.+-]*;base64,", re.S)
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
EXTENSIONS = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
              "mp4": "video/mp4", "webm": "video/webm"}
_FILE = re.compile(r"^[A-Za-z0-9_-]{1,64}\.(" + "|".join(EXTENSIONS) + r")$")


@dataclass(frozen=True)
class Uploaded:
    id: str
    version: str
    url: str


class Media(Protocol):
    async def upload(self, data_url: str, public_id: str, kind: str = "image") -> Uploaded: ...

    async def delete(self, public_id: str, kind: str = "image") -> None: ...


def sniff(data: bytes) -> str | None:
    """The file's type by its first bytes: an EXTENSIONS key, or None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp":
        return "mp4"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    return None


def decode(data_url: str, kind: str) -> tuple[bytes, str]:
    """The bytes of a base64 data URL of `kind` (image or video) and their detected extension;
    the upload error for anything else. CPU-heavy for a video: call it off the event loop."""
    match = _DATA_URL.match(data_url or "")
    if not match or match["type"] != kind:
        raise BadRequest(UPLOAD_ERROR)
    try:
        data = base64.b64decode(data_url[match.end():], validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(UPLOAD_ERROR) from None
    ext = sniff(data)
    if ext is None or EXTENSIONS[ext].split("/")[0] != kind:
        raise BadRequest(UPLOAD_ERROR)
    return data, ext


def normalized(data_url: str, kind: str) -> str:
    """A data URL with the detected type as its label (what is sent on to Cloudinary)."""
    data, ext = decode(data_url, kind)
    return f"data:{EXTENSIONS[ext]};base64,{base64.b64encode(data).decode()}"


class LocalMedia:
    def __init__(self, folder: str, base_url: str):
        self.folder = Path(folder)
        self.base_url = base_url.rstrip("/")

    def _write(self, public_id: str, data_url: str, kind: str) -> str:
        data, ext = decode(data_url, kind)
        name = f"{public_id}.{ext}"
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.folder / name)
        return name

    async def upload(self, data_url: str, public_id: str, kind: str = "image") -> Uploaded:
        if not _SAFE_ID.match(public_id):
            raise BadRequest(UPLOAD_ERROR)
        name = await asyncio.to_thread(self._write, public_id, data_url, kind)
        return Uploaded(public_id, str(int(time.time())), f"{self.base_url}/media/{name}")

    def _remove(self, public_id: str) -> None:
        for path in self.folder.glob(f"{public_id}.*"):
            path.unlink(missing_ok=True)

    async def delete(self, public_id: str, kind: str = "image") -> None:
        if _SAFE_ID.match(public_id):
            await asyncio.to_thread(self._remove, public_id)


class CloudinaryMedia:
    def __init__(self, url: str):
        import cloudinary

        cloudinary.config(cloudinary_url=url)

    async def upload(self, data_url: str, public_id: str, kind: str = "image") -> Uploaded:
        import cloudinary.uploader

        data_url = await asyncio.to_thread(normalized, data_url, kind)
        try:
            result = await asyncio.to_thread(
                cloudinary.uploader.upload,
                data_url,
                public_id=public_id,
                overwrite=True,
                invalidate=True,
                resource_type=kind,
            )
        except Exception:
            raise BadRequest(UPLOAD_ERROR) from None
        return Uploaded(result["public_id"], str(result["version"]), result["secure_url"])

    async def delete(self, public_id: str, kind: str = "image") -> None:
        import cloudinary.uploader

        await asyncio.to_thread(cloudinary.uploader.destroy, public_id, resource_type=kind)


def make_media(settings: Settings) -> Media:
    if settings.cloudinary_url:
        return CloudinaryMedia(settings.cloudinary_url)
    return LocalMedia(settings.media_dir, settings.api_url)


def serve_local(app: web.Application, settings: Settings) -> None:
    """GET /media/<id>.<ext>: files of the detected media types only, served with their own type
    (and nosniff, like every answer): never a page. Other names are 404."""
    if settings.cloudinary_url:
        return
    folder = Path(settings.media_dir)
    folder.mkdir(parents=True, exist_ok=True)

    @doc("An uploaded image or video, with its type", answer=None, auth=False, errors=(404,),
         params={"name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}\\.[a-z0-9]{2,4}$"}})
    async def media_file(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        match = _FILE.match(name)
        if not match or not await asyncio.to_thread((folder / name).is_file):
            raise NotFound("File not found")
        return web.FileResponse(folder / name, headers={"Content-Type": EXTENSIONS[match[1]]})

    app.router.add_get("/media/{name}", media_file)
