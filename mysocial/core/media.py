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
from mysocial.core.errors import BadRequest

UPLOAD_ERROR = "File upload: Error occurred. Try again."
_DATA_URL = re.compile(r"^data:(?P<type>image|video)/(?P<sub>[\w.+-]+);base64,(?P<data>.+)$", re.S)
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Uploaded:
    id: str
    version: str
    url: str


class Media(Protocol):
    async def upload(self, data_url: str, public_id: str, kind: str = "image") -> Uploaded: ...

    async def delete(self, public_id: str, kind: str = "image") -> None: ...


def decode(data_url: str, kind: str) -> tuple[bytes, str]:
    match = _DATA_URL.match(data_url or "")
    if not match or match["type"] != kind:
        raise BadRequest(UPLOAD_ERROR)
    try:
        return base64.b64decode(match["data"], validate=True), match["sub"].split("+")[0]
    except (binascii.Error, ValueError):
        raise BadRequest(UPLOAD_ERROR) from None


class LocalMedia:
    def __init__(self, folder: str, base_url: str):
        self.folder = Path(folder)
        self.base_url = base_url.rstrip("/")

    def _write(self, name: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.folder / name)

    async def upload(self, data_url: str, public_id: str, kind: str = "image") -> Uploaded:
        if not _SAFE_ID.match(public_id):
            raise BadRequest(UPLOAD_ERROR)
        data, ext = decode(data_url, kind)
        name = f"{public_id}.{ext}"
        await asyncio.to_thread(self._write, name, data)
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

        decode(data_url, kind)
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
    if not settings.cloudinary_url:
        Path(settings.media_dir).mkdir(parents=True, exist_ok=True)
        app.router.add_static("/media/", settings.media_dir, show_index=False, follow_symlinks=False)
