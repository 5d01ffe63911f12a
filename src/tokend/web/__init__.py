"""The web pages (SPEC §9): server-rendered HTML over the same service layer as the
API, one more entrypoint beside `tokend.api` and `tokend.cli`.

`install` adds the pages, their static files and the security headers to an app
whose lifespan provides ``app.state.services`` (`tokend.app.create_app` does).
"""

from fastapi import FastAPI
from starlette.middleware import Middleware

from tokend.web.headers import SecurityHeaders
from tokend.web.routes import (
    account,
    authorize,
    device,
    events,
    invite,
    signin,
    tokens,
    upstream,
    webhooks,
)
from tokend.web.static import PATH as STATIC_PATH
from tokend.web.static import StaticFiles
from tokend.web.templates import Templates

__all__ = ["install"]


def install(app: FastAPI) -> None:
    static = StaticFiles()
    app.state.web_templates = Templates(static)
    for module in (signin, upstream, tokens, webhooks, events, account, device, invite, authorize):
        app.include_router(module.router)
    app.add_route(f"{STATIC_PATH}/{{name}}", static.serve, include_in_schema=False)
    # Innermost, where every HTML answer passes (pages, their error pages, /docs),
    # and inside the API's shortcut for cached GET /v2/user, which it never slows.
    app.user_middleware.append(Middleware(SecurityHeaders))
