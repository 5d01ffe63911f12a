"""Device authorization (RFC 8628): a device (``tokend login --web``) asks for codes,
the person approves at ``/device`` (the web pages), the device polls for its token.

These endpoints take no bearer token and answer OAuth's own error shape (RFC 6749
§5.2, ``{"error", "error_description"}``), which OAuth device clients parse, rather
than tokend's ``{"error": {"code", "message"}}``. Only a body over 64 KiB (413), an
unreachable database (503) or a bug (500) still get tokend's shape: they are answered
before, or beside, the endpoint. The form is read by `tokend.api.oauth_wire`.
"""

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tokend.api.dependencies import get_requester
from tokend.api.oauth_wire import (
    NO_STORE,
    OAuthProblem,
    form_body,
    oauth_error,
    oauth_responses,
    read_params,
    required,
)
from tokend.bootstrap import Services
from tokend.domain.audit import Requester
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


def _device_code_responses() -> dict[int | str, dict[str, Any]]:
    documented = oauth_responses()
    documented[429] = {
        "model": OAuthError,
        "description": "`slow_down`: this address holds as many live device codes as it may; "
        "`Retry-After` says when one expires.",
    }
    return documented


@router.post(
    DEVICE_CODE_PATH,
    response_model=DeviceCodeResponse,
    responses=_device_code_responses(),
    summary="Start a device login (RFC 8628 §3.1)",
    description="No bearer token. Answers a `device_code` to poll `/v1/oauth/token` "
    "with, and a `user_code` the person enters at `verification_uri` (the `/device` "
    "page) to approve. The codes live `expires_in` seconds; poll every `interval` "
    "seconds.",
    openapi_extra=form_body(DeviceCodeRequest),
)
async def device_code(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    try:
        form = await read_params(request, ("client_id", "scope", "name"))
        client_id = required(form, "client_id")
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
        return problem.response()
    except TooManyDeviceCodes as exc:
        # OAuth has no error of its own for this; slow_down says what to do.
        retry = {"Retry-After": str(exc.retry_after_s)}
        return oauth_error("slow_down", str(exc), status=429, headers=retry)
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
    responses=oauth_responses(),
    summary="Poll for the token of a device login (RFC 8628 §3.4)",
    description="No bearer token. Until the person decides, 400 with `error` "
    "`authorization_pending` (poll again after `interval` seconds) or `slow_down` "
    "(add 5 seconds to the interval); then `access_denied`, or, once, the token: a new "
    "tokend token of the person who approved, named after the device. Later polls get "
    "`invalid_grant`; codes past their life, `expired_token`.",
    openapi_extra=form_body(DeviceTokenRequest),
)
async def token(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    try:
        form = await read_params(request, ("grant_type", "device_code", "client_id"))
        grant_type = required(form, "grant_type")
        if grant_type != DEVICE_CODE_GRANT:
            raise OAuthProblem(
                "unsupported_grant_type",
                f"This server issues tokens for one grant_type only: {DEVICE_CODE_GRANT}.",
            )
        return await poll_device(services, form, await get_requester(request))
    except OAuthProblem as problem:
        return problem.response()


async def poll_device(
    services: Services, params: dict[str, str], requester: Requester
) -> JSONResponse:
    """The device code grant's answer (here and at the integrations' token endpoint)."""
    device_code = required(params, "device_code")
    client_id = required(params, "client_id")
    try:
        issued = await run_in_threadpool(services.devices.poll, device_code, client_id, requester)
    except DeviceFlowError as exc:
        raise OAuthProblem(exc.code, str(exc)) from None
    made = issued.token
    lifetime_s = None if made.expires_at is None else (made.expires_at - made.created_at) // 1000
    body = DeviceTokenResponse(access_token=issued.secret, expires_in=lifetime_s)
    return JSONResponse(body.model_dump(), headers=NO_STORE)
