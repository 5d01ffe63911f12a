"""``/docs``: Swagger UI, served with its script and style from tokend itself.

FastAPI's default page loads them from a CDN, so it was blank without internet (or
behind a strict proxy); and it starts Swagger UI with an inline script, which the
pages' Content-Security-Policy refuses. Here the files come from the
``fastapi-offline`` package, the start-up code is a file of ours
(``static/swagger-init.js``), and the settings it reads are a JSON data block, which
is never executed.
"""

import json
from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

DOCS_PATH = "/docs"
STATIC_PATH = "/docs/static"
INIT_PATH = "/docs/swagger-init.js"

router = APIRouter(include_in_schema=False)

_INIT_SCRIPT = (files("tokend.api") / "static" / "swagger-init.js").read_bytes()
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{css}">
<link rel="icon" href="{favicon}">
<title>tokend API</title>
</head>
<body>
<div id="swagger-ui"></div>
<script type="application/json" id="swagger-config">{config}</script>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""


def static_files() -> StaticFiles:
    """The Swagger UI files: swagger-ui-bundle.js, swagger-ui.css, favicon.png."""
    return StaticFiles(directory=Path(str(files("fastapi_offline") / "static")))


def _json_in_html(value: object) -> str:
    # In a <script> element nothing is unescaped: "</script>" must not appear at all.
    text = json.dumps(value, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@router.get(DOCS_PATH)
async def docs(request: Request) -> HTMLResponse:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    config = {
        "url": f"{root}/openapi.json",
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        "showExtensions": True,
        "showCommonExtensions": True,
        # The validator badge would send the document to validator.swagger.io.
        "validatorUrl": None,
    }
    page = _PAGE.format(
        css=escape(f"{root}{STATIC_PATH}/swagger-ui.css"),
        favicon=escape(f"{root}{STATIC_PATH}/favicon.png"),
        bundle=escape(f"{root}{STATIC_PATH}/swagger-ui-bundle.js"),
        init=escape(f"{root}{INIT_PATH}"),
        config=_json_in_html(config),
    )
    return HTMLResponse(page)


@router.get(INIT_PATH)
async def init_script() -> Response:
    return Response(
        _INIT_SCRIPT,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
