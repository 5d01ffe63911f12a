"""The error answers each route documents in the OpenAPI document."""

from typing import Any

from pydantic import BaseModel

from tokend.models import ErrorResponse, RateLimitedResponse

_DESCRIPTIONS = {
    400: "Bad request: malformed body, wrong types or bad query values.",
    401: "Missing, malformed, unknown, expired, revoked or leaked token.",
    403: "Authenticated, but this token may not do this.",
    404: "No such resource, or not visible to this token.",
    405: "Known path, other method.",
    413: "Request body over 64 KiB.",
    429: "Too many failed authentications from this address; see Retry-After.",
    500: "Unexpected error; logged with the request id given in the message.",
    503: "The database is unreachable.",
}


_MODELS: dict[int, type[BaseModel]] = {429: RateLimitedResponse}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": _MODELS.get(status, ErrorResponse), "description": _DESCRIPTIONS[status]}
        # Any request may carry an oversized body, fail unexpectedly or find the database down.
        for status in (*statuses, 413, 500, 503)
    }
