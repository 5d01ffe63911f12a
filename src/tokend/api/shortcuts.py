"""The shortcuts for cached tokens: the endpoints services call on every request
they serve, answered at the ASGI level, before routing.

``GET /v2/user``, the gateway check and introspection mostly carry tokens the process
has seen moments ago. For those, FastAPI's routing, request and response objects are
most of the cost, so each endpoint's ``shortcut`` answers a plain cache hit itself,
byte for byte as its route would; everything else (no token, a bad one, a miss, an
expiry or activeAt write due, a restricted token where permissions matter) goes on to
the route, which has the one set of rules for them.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

from tokend.api.routes import check, introspection, user


class CachedTokenShortcuts:
    """ASGI middleware dispatching to the shortcuts by path and method."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path == user.PATH:
                if scope["method"] == "GET" and await user.shortcut(scope, send):
                    return
            elif path == check.PATH or path.startswith(check.BELOW):
                # Every method, and every path below it, is the one GET route; on a
                # copy of the scope: the server keeps its own, so a HEAD still gets
                # no body.
                if scope["method"] != "GET" or path != check.PATH:
                    scope = check.as_check(scope)
                if await check.shortcut(scope, send):
                    return
            elif path == introspection.PATH and scope["method"] == "POST":
                replay = await introspection.shortcut(scope, receive, send)
                if replay is None:
                    return
                receive = replay
        await self.app(scope, receive, send)
