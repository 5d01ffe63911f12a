"""A FastAPI dependency giving a route the verified token (401 without one)."""

from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tokend.domain.errors import AuthenticationError
from tokend.http.bearer import bearer_secret
from tokend.http.errors import authentication_challenge, is_unavailable
from tokend.verify.asgi import STATE_KEY
from tokend.verify.verifier import VerifiedToken, Verifier


def require_token(
    verifier: Verifier, *permissions: str
) -> Callable[[Request], Awaitable[VerifiedToken]]:
    """``Depends(require_token(verifier))``: the caller's `VerifiedToken`, or a 401.
    ``require_token(verifier, "deployments:read")``: and a 403 unless the token holds
    every permission named.

    Behind `BearerAuthMiddleware` it reuses the middleware's verification.
    """

    async def verified_token(request: Request) -> VerifiedToken:
        verified = await _verified(request)
        missing = [name for name in permissions if not verified.has(name)]
        if missing:
            message = f"This token lacks the permission {', '.join(missing)}."
            raise HTTPException(403, {"code": "forbidden", "message": message})
        return verified

    async def _verified(request: Request) -> VerifiedToken:
        already = request.scope.get("state", {}).get(STATE_KEY)
        if isinstance(already, VerifiedToken):
            return already
        try:
            return await verifier.averify(bearer_secret(request.headers.get("authorization")))
        except AuthenticationError as exc:
            code, headers = authentication_challenge(exc)
            raise HTTPException(401, {"code": code, "message": str(exc)}, headers) from None
        except (DBAPIError, PoolTimeout) as exc:
            if not is_unavailable(exc):
                raise
            message = "The token database is unreachable. Retry in a few seconds."
            raise HTTPException(
                503, {"code": "service_unavailable", "message": message}, {"Retry-After": "5"}
            ) from None

    return verified_token
