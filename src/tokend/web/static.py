"""Our own CSS, JavaScript and icon, under URLs that carry a hash of their content.

The files are read once, at start-up, into a table keyed by their hashed name
(``tokend.3f2a9c1b.css``): a request is answered from that table or not at all, so
nothing outside the static folder can be reached, whatever the path says. A hashed
URL changes whenever its file does, so browsers may keep each one for a year.
"""

import hashlib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import PurePosixPath

from starlette.requests import Request
from starlette.responses import Response

PATH = "/static"
CACHE_FOREVER = "public, max-age=31536000, immutable"
_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str


class StaticFiles:
    def __init__(self) -> None:
        self._by_url_name: dict[str, Asset] = {}
        self._url_names: dict[str, str] = {}
        folder = files("tokend.web") / "static"
        for entry in folder.iterdir():
            suffix = PurePosixPath(entry.name).suffix
            if not entry.is_file() or suffix not in _TYPES:
                continue
            body = entry.read_bytes()
            digest = hashlib.sha256(body).hexdigest()[:12]
            url_name = f"{entry.name.removesuffix(suffix)}.{digest}{suffix}"
            self._by_url_name[url_name] = Asset(body, _TYPES[suffix])
            self._url_names[entry.name] = url_name

    def url(self, name: str) -> str:
        """The hashed URL of one of our files (``tokend.css``); KeyError if there is none."""
        return f"{PATH}/{self._url_names[name]}"

    async def serve(self, request: Request) -> Response:
        asset = self._by_url_name.get(str(request.path_params.get("name", "")))
        if asset is None:
            return Response("Not found.", status_code=404, media_type="text/plain")
        headers = {"Cache-Control": CACHE_FOREVER, "X-Content-Type-Options": "nosniff"}
        return Response(asset.body, media_type=asset.media_type, headers=headers)
