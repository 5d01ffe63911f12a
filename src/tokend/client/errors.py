"""What the client raises. Every class derives from `ClientError`.

Messages never contain the token: they carry the server's own words (which never
echo a secret) or describe the connection.
"""

from email.utils import parsedate_to_datetime
from time import time

import httpx
from pydantic import ValidationError

from tokend.models import ErrorResponse


class ClientError(Exception):
    """Base of everything `tokend.Client` and `tokend.AsyncClient` raise."""


class ServerUnreachable(ClientError):
    """No answer from the server: refused, timed out, DNS failure, broken connection."""

    def __init__(self, base_url: str, reason: str) -> None:
        super().__init__(f"cannot reach the tokend server at {base_url}: {reason}")
        self.base_url = base_url
        self.reason = reason


class InvalidResponse(ClientError):
    """The server answered 2xx with something tokend never sends."""


class APIError(ClientError):
    """The server answered with an error status (anything but 2xx)."""

    def __init__(
        self, status: int, code: str, message: str, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r})"


class AuthenticationFailed(APIError):
    """401: no token, or one that is malformed, unknown, expired, revoked or leaked."""


class PermissionDenied(APIError):
    """403: authenticated, but this token may not do that."""


class NotFound(APIError):
    """404: no such token (or not yours), or no such path."""


class RateLimited(APIError):
    """429: too many requests (or failed authentications) from this address."""


class ServiceUnavailable(APIError):
    """503: the server is up but its database is not."""


_BY_STATUS: dict[int, type[APIError]] = {
    401: AuthenticationFailed,
    403: PermissionDenied,
    404: NotFound,
    429: RateLimited,
    503: ServiceUnavailable,
}


def api_error(response: httpx.Response) -> APIError:
    """The error an error response stands for, worded by the server when it can."""
    cls = _BY_STATUS.get(response.status_code, APIError)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    try:
        detail = ErrorResponse.model_validate_json(response.content).error
    except ValidationError:
        # Not tokend's JSON (a proxy's HTML page, say): describe the status instead.
        reason = response.reason_phrase or "error"
        return cls(
            response.status_code,
            f"http_{response.status_code}",
            f"The server answered HTTP {response.status_code} {reason}.",
            retry_after,
        )
    return cls(response.status_code, detail.code, detail.message, retry_after)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait, from either form RFC 9110 allows: delay-seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time())
