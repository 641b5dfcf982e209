"""Static files (CSS, JavaScript, an icon), served from memory with a content hash in
their address, so that browsers can keep them for a year and never ask another site."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from redirection_bot.api import BrandingSettings

CONTENT_TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
}
ACCENT_PLACEHOLDER = "#1f4e79"
"""The accent colour as written in chat.css; replaced by the operator's ``accent_color``."""


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    version: str


class Assets:
    """The files of ``static/``, read once."""

    def __init__(self, branding: BrandingSettings) -> None:
        self._files: dict[str, Asset] = {}
        folder = Path(__file__).with_name("static")
        for item in folder.iterdir():
            suffix = "." + item.name.rsplit(".", 1)[-1]
            if suffix not in CONTENT_TYPES:
                continue
            body = item.read_bytes()
            if item.name == "chat.css":
                body = body.replace(ACCENT_PLACEHOLDER.encode(), branding.accent_color.encode())
            version = hashlib.sha256(body).hexdigest()[:12]
            self._files[item.name] = Asset(body, CONTENT_TYPES[suffix], version)

    def url(self, name: str) -> str:
        return f"/static/{name}?v={self._files[name].version}"

    def size(self, name: str) -> int:
        return len(self._files[name].body)

    async def serve(self, request: web.Request) -> web.Response:
        asset = self._files.get(request.match_info["name"])
        if asset is None:
            raise web.HTTPNotFound
        response = web.Response(body=asset.body, content_type=asset.content_type)
        if asset.content_type.startswith("text/"):
            response.charset = "utf-8"
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response
