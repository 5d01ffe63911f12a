"""Error answers every HTTP entrypoint gives alike (§5 of the spec): failed
authentication, rate limits, an unreachable database."""

import logging

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.responses import JSONResponse

from tokend.domain.errors import (
    AuthenticationError,
    ExpiredToken,
    InactiveToken,
    LeakedToken,
    MalformedSecret,
    MissingToken,
    RateLimited,
    RevokedToken,
    UnknownToken,
)
from tokend.metrics import AUTHENTICATION_FAILURES
from tokend.models import RateLimit, RateLimitedDetail, RateLimitedResponse

log = logging.getLogger("tokend.api")

REALM = 'Bearer realm="tokend"'
# The metric label of each failure: the class, never anything the client sent.
_REASONS: dict[type[AuthenticationError], str] = {
    MissingToken: "missing",
    MalformedSecret: "malformed",
    UnknownToken: "unknown",
    ExpiredToken: "expired",
    InactiveToken: "inactive",
    RevokedToken: "revoked",
    LeakedToken: "leaked",
}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def authentication_challenge(exc: AuthenticationError) -> tuple[str, dict[str, str]]:
    """The error code and the ``WWW-Authenticate`` header (RFC 6750) of a 401."""
    if isinstance(exc, MissingToken):
        return "missing_token", {"WWW-Authenticate": REALM}
    return "invalid_token", {"WWW-Authenticate": f'{REALM}, error="invalid_token"'}


def authentication_failed(exc: AuthenticationError) -> JSONResponse:
    AUTHENTICATION_FAILURES.labels(_REASONS.get(type(exc), "invalid")).inc()
    code, headers = authentication_challenge(exc)
    return error_response(401, code, str(exc), headers)


def rate_limited(exc: RateLimited) -> JSONResponse:
    limit = RateLimit(
        remaining=0, reset=exc.reset_ms // 1000, reset_ms=exc.reset_ms, total=exc.limit
    )
    body = RateLimitedResponse(
        error=RateLimitedDetail(code="rate_limited", message=str(exc), limit=limit)
    )
    return JSONResponse(
        body.model_dump(by_alias=True),
        status_code=429,
        headers={"Retry-After": str(exc.retry_after_s)},
    )


def is_unavailable(exc: BaseException) -> bool:
    """Whether a database error means "unreachable" (503) rather than a bug (500)."""
    if isinstance(exc, PoolTimeout | OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def database_unavailable(method: str, path: str, exc: BaseException) -> JSONResponse:
    log.warning(
        "database unavailable on %s %s: %s", method, path, type(exc.__cause__ or exc).__name__
    )
    return error_response(
        503,
        "service_unavailable",
        "The database is unreachable. Retry in a few seconds.",
        headers={"Retry-After": "5"},
    )
