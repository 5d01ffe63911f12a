"""Device authorization (RFC 8628): a device (``tokend login --web``) asks for codes,
the person approves at ``/device`` (the web pages), the device polls for its token.

These endpoints take no bearer token and answer OAuth's own error shape (RFC 6749
§5.2, ``{"error", "error_description"}``), which OAuth device clients parse, rather
than tokend's ``{"error": {"code", "message"}}``. Only a body over 64 KiB (413), an
unreachable database (503) or a bug (500) still get tokend's shape: they are answered
before, or beside, the endpoint.

The form body is parsed here rather than by FastAPI, so that everything a client may
get wrong (JSON instead of a form, a missing or repeated field, bytes that are not
UTF-8) is an OAuth ``invalid_request`` naming what to fix, never a 422.
"""

from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tokend.api.dependencies import get_requester
from tokend.api.routes.responses import errors
from tokend.bootstrap import Services
from tokend.domain.device import format_user_code
from tokend.domain.errors import DeviceFlowError, TooManyDeviceCodes, ValidationFailed
from tokend.models import (
    DEVICE_CODE_GRANT,
    DeviceCodeRequest,
    DeviceCodeResponse,
    DeviceTokenRequest,
    DeviceTokenResponse,
    OAuthError,
)

router = APIRouter(tags=["Device authorization"])

DEVICE_CODE_PATH = "/v1/oauth/device/code"
TOKEN_PATH = "/v1/oauth/token"
# RFC 6749 §5.1: answers that carry (or may carry) a secret must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM = "application/x-www-form-urlencoded"
# More than any client sends; bounds the work a hostile body can ask for.
MAX_FIELDS = 50


class OAuthProblem(Exception):
    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _oauth_error(
    code: str, description: str, *, status: int = 400, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = OAuthError.model_validate({"error": code, "error_description": description})
    return JSONResponse(body.model_dump(), status_code=status, headers=NO_STORE | (headers or {}))


def _form_body(model: type[Any]) -> dict[str, Any]:
    """The OpenAPI requestBody of a form read by hand."""
    return {
        "requestBody": {
            "required": True,
            "content": {FORM: {"schema": model.model_json_schema()}},
        }
    }


def _responses() -> dict[int | str, dict[str, Any]]:
    documented = errors()
    documented[400] = {
        "model": OAuthError,
        "description": "RFC 6749 §5.2 / RFC 8628 §3.5: `error` says what to do.",
    }
    return documented


def _device_code_responses() -> dict[int | str, dict[str, Any]]:
    documented = _responses()
    documented[429] = {
        "model": OAuthError,
        "description": "`slow_down`: this address holds as many live device codes as it may; "
        "`Retry-After` says when one expires.",
    }
    return documented


async def _read_form(request: Request, fields: tuple[str, ...]) -> dict[str, str]:
    """The named fields of a form body; a field sent empty counts as not sent (RFC
    6749 §3.1). Raises `OAuthProblem` (invalid_request) for anything but a form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    example = "&".join(f"{name}=…" for name in fields)
    if content_type != FORM:
        sent = ", not JSON" if content_type.endswith("json") else ""
        raise OAuthProblem(
            "invalid_request",
            f"The body must be form-encoded{sent}: send Content-Type: {FORM} with {example}.",
        )
    body = await request.body()  # at most 64 KiB: the body limit answers 413 beyond
    try:
        pairs = parse_qsl(
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
    found: dict[str, str] = {}
    for name, value in pairs:
        if name not in fields or not value:
            continue
        if name in found:
            # RFC 6749 §3.2: a parameter must not be sent more than once.
            raise OAuthProblem("invalid_request", f"The field {name} was sent more than once.")
        found[name] = value
    return found


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if value is None:
        raise OAuthProblem("invalid_request", f"The field {name} is required.")
    return value


@router.post(
    DEVICE_CODE_PATH,
    response_model=DeviceCodeResponse,
    responses=_device_code_responses(),
    summary="Start a device login (RFC 8628 §3.1)",
    description="No bearer token. Answers a `device_code` to poll `/v1/oauth/token` "
    "with, and a `user_code` the person enters at `verification_uri` (the `/device` "
    "page) to approve. The codes live `expires_in` seconds; poll every `interval` "
    "seconds.",
    openapi_extra=_form_body(DeviceCodeRequest),
)
async def device_code(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    try:
        form = await _read_form(request, ("client_id", "scope", "name"))
        client_id = _required(form, "client_id")
        try:
            grant = await run_in_threadpool(
                partial(
                    services.devices.start,
                    client_id,
                    scope=form.get("scope"),
                    name=form.get("name"),
                    requester=await get_requester(request),
                )
            )
        except ValidationFailed as exc:
            raise OAuthProblem("invalid_request", str(exc)) from None
    except OAuthProblem as problem:
        return _oauth_error(problem.code, problem.description)
    except TooManyDeviceCodes as exc:
        # OAuth has no error of its own for this; slow_down says what to do.
        retry = {"Retry-After": str(exc.retry_after_s)}
        return _oauth_error("slow_down", str(exc), status=429, headers=retry)
    user_code = format_user_code(grant.user_code)
    verification_uri = f"{services.settings.base_url}/device"
    body = DeviceCodeResponse(
        device_code=grant.device_code,
        user_code=user_code,
        verification_uri=verification_uri,
        verification_uri_complete=f"{verification_uri}?user_code={user_code}",
        expires_in=grant.expires_in_s,
        interval=grant.interval_s,
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)


@router.post(
    TOKEN_PATH,
    response_model=DeviceTokenResponse,
    responses=_responses(),
    summary="Poll for the token of a device login (RFC 8628 §3.4)",
    description="No bearer token. Until the person decides, 400 with `error` "
    "`authorization_pending` (poll again after `interval` seconds) or `slow_down` "
    "(add 5 seconds to the interval); then `access_denied`, or, once, the token: a new "
    "tokend token of the person who approved, named after the device. Later polls get "
    "`invalid_grant`; codes past their life, `expired_token`.",
    openapi_extra=_form_body(DeviceTokenRequest),
)
async def token(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    try:
        form = await _read_form(request, ("grant_type", "device_code", "client_id"))
        grant_type = _required(form, "grant_type")
        if grant_type != DEVICE_CODE_GRANT:
            raise OAuthProblem(
                "unsupported_grant_type",
                f"This server issues tokens for one grant_type only: {DEVICE_CODE_GRANT}.",
            )
        device_code = _required(form, "device_code")
        client_id = _required(form, "client_id")
        requester = await get_requester(request)
        try:
            issued = await run_in_threadpool(
                services.devices.poll, device_code, client_id, requester
            )
        except DeviceFlowError as exc:
            raise OAuthProblem(exc.code, str(exc)) from None
    except OAuthProblem as problem:
        return _oauth_error(problem.code, problem.description)
    made = issued.token
    lifetime_s = None if made.expires_at is None else (made.expires_at - made.created_at) // 1000
    body = DeviceTokenResponse(access_token=issued.secret, expires_in=lifetime_s)
    return JSONResponse(body.model_dump(), headers=NO_STORE)
