"""OAuth's wire format, shared by the device endpoints and the token endpoint: reading
a request's parameters by hand, and answering RFC 6749 §5.2's error shape.

Parameters are read here rather than by FastAPI, so that everything a client may get
wrong (a missing or repeated field, a number where a string belongs, bytes that are
not UTF-8) is an OAuth ``invalid_request`` naming what to fix, never a 422.
"""

import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import Request
from fastapi.responses import JSONResponse

from tokend.api.routes.responses import errors
from tokend.models import OAuthError

# RFC 6749 §5.1: answers that carry (or may carry) a secret must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# More than any client sends; bounds the work a hostile body can ask for.
MAX_FIELDS = 50


class OAuthProblem(Exception):
    def __init__(
        self,
        code: str,
        description: str,
        *,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return oauth_error(self.code, self.description, status=self.status, headers=self.headers)


def oauth_error(
    code: str, description: str, *, status: int = 400, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = OAuthError.model_validate({"error": code, "error_description": description})
    return JSONResponse(body.model_dump(), status_code=status, headers=NO_STORE | (headers or {}))


def form_body(model: type[Any], *, also_json: bool = False) -> dict[str, Any]:
    """The OpenAPI requestBody of parameters read by hand."""
    schema = {"schema": model.model_json_schema()}
    content = {FORM: schema, **({JSON: schema} if also_json else {})}
    return {"requestBody": {"required": True, "content": content}}


def oauth_responses() -> dict[int | str, dict[str, Any]]:
    documented = errors()
    documented[400] = {
        "model": OAuthError,
        "description": "RFC 6749 §5.2 / RFC 8628 §3.5: `error` says what to do.",
    }
    return documented


async def read_params(
    request: Request, fields: tuple[str, ...], *, also_json: bool = False
) -> dict[str, str]:
    """The named fields of a form body (or, with ``also_json``, of a JSON object); a
    field sent empty counts as not sent (RFC 6749 §3.1). Raises `OAuthProblem`."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    example = "&".join(f"{name}=…" for name in fields)
    body = await request.body()  # at most 64 KiB: the body limit answers 413 beyond
    if also_json and content_type == JSON:
        pairs = _json_pairs(body)
    elif content_type == FORM:
        pairs = _form_pairs(body)
    else:
        sent = ", not JSON" if content_type.endswith("json") else ""
        accepted = f"{FORM} or {JSON}" if also_json else FORM
        raise OAuthProblem(
            "invalid_request",
            f"The body must be form-encoded{'' if also_json else sent}: send "
            f"Content-Type: {accepted} with {example}.",
        )
    found: dict[str, str] = {}
    for name, value in pairs:
        if name not in fields or not value:
            continue
        if name in found:
            # RFC 6749 §3.2: a parameter must not be sent more than once.
            raise OAuthProblem("invalid_request", f"The field {name} was sent more than once.")
        found[name] = value
    return found


def _form_pairs(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise OAuthProblem("invalid_request", "The form body is not valid UTF-8.") from None
    except ValueError:
        raise OAuthProblem(
            "invalid_request", f"The form has more than {MAX_FIELDS} fields."
        ) from None


class _Members(list[tuple[str, Any]]):
    """A JSON object's members in order, repeated names kept (to be refused)."""


def _json_pairs(body: bytes) -> list[tuple[str, str]]:
    try:
        pairs = json.loads(body, object_pairs_hook=_Members)
    except (ValueError, RecursionError):
        raise OAuthProblem("invalid_request", "The body is not valid JSON.") from None
    if not isinstance(pairs, _Members) or len(pairs) > MAX_FIELDS:
        raise OAuthProblem(
            "invalid_request", f"The body must be one JSON object of at most {MAX_FIELDS} fields."
        )
    checked: list[tuple[str, str]] = []
    for name, value in pairs:
        if value is None:
            continue
        if not isinstance(value, str):
            raise OAuthProblem("invalid_request", f"The field {name[:50]} must be a string.")
        checked.append((name, value))
    return checked


def required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if value is None:
        raise OAuthProblem("invalid_request", f"The field {name} is required.")
    return value


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """The client id and secret of an ``Authorization: Basic`` header (RFC 6749 §2.3.1:
    each form-encoded, then joined by a colon and base64-encoded); None without one."""
    if authorization is None:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthProblem(
            "invalid_client",
            "The Authorization header is not Basic base64(client_id:client_secret).",
            status=401,
            headers={"WWW-Authenticate": 'Basic realm="tokend"'},
        )
    return unquote_plus(client_id), unquote_plus(secret)
