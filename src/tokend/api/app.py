"""The ASGI application."""

import warnings
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, APIRouter
from starlette.types import ASGIApp

from tokend import __version__
from tokend.api.bearer import BEARER_SECURITY, SCHEME_NAME, SECURITY_SCHEME
from tokend.api.body_limit import BodyLimitMiddleware
from tokend.api.dependencies import get_principal
from tokend.api.errors import install_error_handlers
from tokend.api.github_keys import GitHubKeys
from tokend.api.routes import (
    check,
    docs,
    events,
    health,
    introspection,
    metrics,
    oauth,
    openid,
    secret_scanning,
    sso,
    tokens,
    user,
    webhooks,
)
from tokend.api.shortcuts import CachedTokenShortcuts
from tokend.bootstrap import bootstrap
from tokend.http.observed import ObservedRequests
from tokend.http.serving import stop_with_supervisor
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
            app.state.github_keys = GitHubKeys(services.settings.secret_scanning_keys)
            stop_with_supervisor()
            yield
        finally:
            services.close()

    app = FastAPI(
        title="tokend",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by routes/docs.py, without a CDN
        redoc_url=None,
        # A body without Content-Type is read as JSON (curl users forget it); a body
        # declared as something else is still refused.
        strict_content_type=False,
        # No redirect from "/path/" to "/path": its Location would be built from the
        # Host header the client sent. A trailing slash is an unknown path (404).
        redirect_slashes=False,
    )
    # Added first, so it runs inside the body limit (a GET may still declare a body).
    app.add_middleware(CachedTokenShortcuts)
    app.add_middleware(BodyLimitMiddleware)
    install_error_handlers(app)
    # Matched in this order: the hottest paths (GET /v2/user, the gateway check) first.
    routers = (
        user.router,
        check.router,
        tokens.router,
        events.router,
        webhooks.router,
        introspection.router,
        secret_scanning.router,
        oauth.router,
        sso.router,
        openid.router,
        health.router,
        metrics.router,
    )
    for router in routers:
        app.include_router(router)
    app.include_router(docs.router)
    app.mount(docs.STATIC_PATH, docs.static_files(), name="docs-static")
    app.openapi = lambda: _openapi(app, routers)  # type: ignore[method-assign]
    _observe_from_outside(app)
    return app


def _observe_from_outside(app: FastAPI) -> None:
    """Request ids and latencies around the whole stack Starlette builds (at the first
    call, so middleware added later, by `tokend.web` say, is inside too), its error
    middleware included: 500s and the shortcuts' answers are observed like the rest."""
    build = app.build_middleware_stack

    def build_observed() -> ASGIApp:
        return ObservedRequests(build(), app)

    app.build_middleware_stack = build_observed  # type: ignore[method-assign]


def _openapi(app: FastAPI, routers: Iterable[APIRouter]) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    with warnings.catch_warnings():
        # FastAPI gives every method of a route (GET and HEAD of the probes) the route's
        # one operationId, ending in whichever method its set yields first, so it differs
        # between processes; and warns of it. Made unique and stable below.
        warnings.filterwarnings("ignore", "Duplicate Operation ID", UserWarning)
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
    for path in schema.get("paths", {}).values():
        for method, operation in path.items():
            operation["operationId"] = operation["operationId"].rsplit("_", 1)[0] + f"_{method}"
            # tokend answers 400, never FastAPI's 422: drop what FastAPI documents for it.
            operation.get("responses", {}).pop("422", None)
    for name in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)
    _declare_bearer_security(routers, schema)
    app.openapi_schema = schema
    return schema


def _declare_bearer_security(routers: Iterable[APIRouter], schema: dict[str, Any]) -> None:
    # get_principal reads the header itself (cheaper than FastAPI's HTTPBearer
    # dependency), so the operations that depend on it are marked here; GET /v2/user,
    # which calls it without Depends, declares the same in its openapi_extra.
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            if any(dep.call is get_principal for dep in route.dependant.dependencies):
                for method in route.methods or ():
                    schema["paths"][route.path_format][method.lower()].update(BEARER_SECURITY)
    schema.setdefault("components", {}).setdefault("securitySchemes", {})[SCHEME_NAME] = (
        SECURITY_SCHEME
    )
