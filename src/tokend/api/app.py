"""The ASGI application."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from tokend import __version__
from tokend.api.body_limit import BodyLimitMiddleware
from tokend.api.errors import install_error_handlers
from tokend.api.routes import health, tokens, user
from tokend.bootstrap import bootstrap
from tokend.settings import Settings
from tokend.storage.migrate import ensure_current

DESCRIPTION = (
    "Personal access tokens, wire-compatible with the Authentication group of the "
    "Vercel REST API. Authenticate with `Authorization: Bearer <token>`."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = bootstrap(settings)
        try:
            ensure_current(services.engine)
            services.start()
            app.state.services = services
            yield
        finally:
            services.close()

    app = FastAPI(
        title="tokend",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        # A body without Content-Type is read as JSON (curl users forget it); a body
        # declared as something else is still refused.
        strict_content_type=False,
    )
    app.add_middleware(BodyLimitMiddleware)
    install_error_handlers(app)
    app.include_router(tokens.router)
    app.include_router(user.router)
    app.include_router(health.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    # tokend answers 400, never FastAPI's 422: drop what FastAPI documents for it.
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            operation.get("responses", {}).pop("422", None)
    for name in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)
    app.openapi_schema = schema
    return schema
