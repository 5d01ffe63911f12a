"""`BearerAuthMiddleware`: every HTTP request must carry a live tokend token.

The verified token is put in the request state (``request.state.tokend``); a request
without one is answered 401 in tokend's error format, as tokend itself answers.
"""

from collections.abc import Collection

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from tokend.domain.errors import AuthenticationError
from tokend.http.bearer import bearer_secret
from tokend.http.errors import authentication_failed, database_unavailable, is_unavailable
from tokend.verify.verifier import Verifier

STATE_KEY = "tokend"


class BearerAuthMiddleware:
    def __init__(self, app: ASGIApp, verifier: Verifier, *, exempt: Collection[str] = ()) -> None:
        """``exempt``: exact paths served without a token (health checks, say)."""
        self.app = app
        self.verifier = verifier
        self.exempt = frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        secret = bearer_secret(Headers(scope=scope).get("authorization"))
        try:
            verified = await self.verifier.averify(secret)
        except AuthenticationError as exc:
            response = authentication_failed(exc)
        except (DBAPIError, PoolTimeout) as exc:
            if not is_unavailable(exc):
                raise
            response = database_unavailable(scope["method"], scope["path"], exc)
        else:
            scope.setdefault("state", {})[STATE_KEY] = verified
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)
