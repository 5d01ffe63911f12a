"""``/docs``: Swagger UI, served with its script and style from tokend itself.

FastAPI's default page loads them from a CDN, so it was blank without internet (or
behind a strict proxy). The files come from the ``fastapi-offline`` package.
"""

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

DOCS_PATH = "/docs"
STATIC_PATH = "/docs/static"

router = APIRouter(include_in_schema=False)


def static_files() -> StaticFiles:
    """The Swagger UI files: swagger-ui-bundle.js, swagger-ui.css, favicon.png."""
    return StaticFiles(directory=Path(str(files("fastapi_offline") / "static")))


@router.get(DOCS_PATH)
async def docs(request: Request) -> HTMLResponse:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json",
        title="tokend API",
        swagger_js_url=f"{root}{STATIC_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{STATIC_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{root}{STATIC_PATH}/favicon.png",
        # The validator badge would send the document to validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )
