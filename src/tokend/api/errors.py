"""One JSON error shape for every failure, whoever raised it (§5 of the spec)."""

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.routing import Route

from tokend.domain.errors import (
    AuthenticationError,
    Conflict,
    Forbidden,
    InvalidSignature,
    NotConfigured,
    NotFound,
    RateLimited,
    TokendError,
    ValidationFailed,
)
from tokend.http.errors import (
    authentication_failed,
    database_unavailable,
    error_response,
    is_unavailable,
    rate_limited,
)
from tokend.http.request_id import current as current_request_id
from tokend.http.request_id import new as new_request_id

log = logging.getLogger("tokend.api")

MAX_BODY_BYTES = 64 * 1024


def _describe(errors: Sequence[Any]) -> str:
    first = errors[0] if errors else {}
    kind, loc = first.get("type", ""), tuple(first.get("loc", ()))
    if kind == "json_invalid":
        return "The request body is not valid JSON."
    if loc == ("body",):
        if kind == "missing":
            return "A JSON request body is required."
        return "The request body must be a JSON object (send Content-Type: application/json)."
    where = ".".join(str(part) for part in loc[1:]) or "request"
    source = {"query": "query parameter", "body": "field", "path": "path parameter"}.get(
        str(loc[0]) if loc else "", "value"
    )
    # pydantic's `msg` describes the rule, never the input, so nothing sent is echoed.
    return f"Invalid {source} '{where}': {first.get('msg', 'invalid value')}."


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _form_fields(request: Request) -> list[str]:
    """The form fields the matched operation reads (POST /v1/introspect: token)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return []
    return [
        field.alias
        for field in route.dependant.body_params
        if isinstance(field.field_info, params.Form)
    ]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fields = _form_fields(request)
    if fields and content_type not in _FORM_TYPES:
        # JSON (or anything else) where a form is expected: pydantic would only say
        # "Field required" of a field the client believes it sent.
        example = "&".join(f"{name}=…" for name in fields)
        sent = ", not JSON" if content_type.endswith("json") else ""
        return error_response(
            400,
            "bad_request",
            f"The body must be form-encoded{sent}: send Content-Type: "
            f"application/x-www-form-urlencoded with {example} "
            f'(curl: --data-urlencode "{fields[0]}=…").',
        )
    return error_response(400, "bad_request", _describe(exc.errors()))


def _allowed_methods(request: Request) -> set[str]:
    """Every method some route takes at this path: Starlette's Allow names only the
    first route whose path matches, and a path may have several (GET and POST
    /v1/webhooks)."""
    path = request.scope.get("path", "")
    allowed: set[str] = set()
    for route in _routes(request.app.router.routes):
        if route.methods and route.path_regex.match(path):
            allowed |= route.methods
    return allowed


def _routes(routes: Sequence[Any]) -> Iterator[Route]:
    # FastAPI keeps an included router as one entry wrapping the original router.
    for route in routes:
        if isinstance(route, Route):
            yield route
        elif (inner := getattr(route, "original_router", None)) is not None:
            yield from _routes(inner.routes)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        # The path is not echoed: a secret pasted into a URL must not come back.
        return error_response(404, "not_found", "No such path.")
    if exc.status_code == 405:
        headers = dict(exc.headers or {})
        allowed = _allowed_methods(request)
        if allowed:
            headers["Allow"] = ", ".join(sorted(allowed))
        return error_response(
            405,
            "method_unknown",
            "This method is not allowed here; the Allow header lists those that are.",
            headers=headers,
        )
    if exc.status_code == 413:
        return payload_too_large(MAX_BODY_BYTES)
    return error_response(exc.status_code, "bad_request", str(exc.detail))


def payload_too_large(max_bytes: int) -> JSONResponse:
    return error_response(
        413,
        "payload_too_large",
        f"The request body is larger than {max_bytes // 1024} KiB.",
        headers={"Connection": "close"},
    )


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    message = str(exc)
    if isinstance(exc, AuthenticationError):
        return authentication_failed(exc)
    if isinstance(exc, RateLimited):
        return rate_limited(exc)
    if isinstance(exc, Forbidden):
        return error_response(403, "forbidden", message)
    if isinstance(exc, NotFound):
        return error_response(404, "not_found", message)
    if isinstance(exc, InvalidSignature):
        return error_response(401, "invalid_signature", message)
    if isinstance(exc, Conflict):
        return error_response(409, "conflict", message)
    if isinstance(exc, ValidationFailed):
        return error_response(400, "bad_request", message)
    if isinstance(exc, NotConfigured):
        return error_response(503, "not_configured", message)
    return await _unexpected(_, exc)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if not is_unavailable(exc):
        return await _unexpected(request, exc)
    return database_unavailable(request.method, request.url.path, exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The id sent as X-Request-Id, which the log lines of this request carry too.
    request_id = current_request_id.get() or new_request_id()
    log.error(
        "unexpected error, request id %s, on %s %s",
        request_id,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    return error_response(
        500,
        "internal_server_error",
        f"An unexpected error occurred. Request id: {request_id}.",
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(TokendError, _domain_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_error)
    app.add_exception_handler(Exception, _unexpected)
