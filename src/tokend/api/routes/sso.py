"""``POST /v1/integrations/sso/token``: the token endpoint of "Sign in with tokend",
where the Vercel API has SSO token exchange (``exchangeSsoToken`` in `@vercel/sdk`).

It takes the JSON body `@vercel/sdk` sends as well as the form standard OAuth
clients send, and client credentials in the body or in HTTP Basic (RFC 6749 §2.3.1),
never both. Errors have OAuth's shape (RFC 6749 §5.2).
"""

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tokend.api.dependencies import get_requester
from tokend.api.oauth_wire import (
    NO_STORE,
    OAuthProblem,
    basic_credentials,
    form_body,
    oauth_responses,
    read_params,
    required,
)
from tokend.api.routes.oauth import poll_device
from tokend.bootstrap import Services
from tokend.domain.integrations import Integration
from tokend.domain.oauth import InvalidClient, OAuthError
from tokend.models import DEVICE_CODE_GRANT, SsoTokenRequest, SsoTokenResponse
from tokend.service.provider import TokenAnswer

router = APIRouter(tags=["Authentication"])

TOKEN_PATH = "/v1/integrations/sso/token"
FIELDS = tuple(SsoTokenRequest.model_fields)
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="tokend"'}


def _responses() -> dict[int | str, dict[str, object]]:
    documented = oauth_responses()
    documented[401] = {
        "model": documented[400]["model"],
        "description": "`invalid_client`: unknown client_id or wrong client_secret.",
    }
    return documented


@router.post(
    TOKEN_PATH,
    response_model=SsoTokenResponse,
    responses=_responses(),
    operation_id="exchangeSsoToken",
    summary="SSO Token Exchange: trade an authorization code for an id_token",
    description="The token endpoint of tokend's OpenID Connect provider (discovery at "
    "`/.well-known/openid-configuration`). `authorization_code`: the code from "
    "`/oauth/authorize` (60 s, single use; a second use revokes what the first issued). "
    "`refresh_token` (scope offline_access): rotates the refresh token; replaying an old "
    "one revokes the whole grant. The access token is a tokend token of the person, "
    "listed and revocable like any other.",
    openapi_extra=form_body(SsoTokenRequest, also_json=True),
)
async def exchange(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    try:
        params = await read_params(request, FIELDS, also_json=True)
        grant_type = required(params, "grant_type")
        requester = await get_requester(request)
        if grant_type == DEVICE_CODE_GRANT:
            return await poll_device(services, params, requester)
        if grant_type not in ("authorization_code", "refresh_token"):
            raise OAuthProblem(
                "unsupported_grant_type",
                f"grant_type must be authorization_code, refresh_token or {DEVICE_CODE_GRANT}.",
            )
        via_basic = "authorization" in request.headers
        client = await _client(services, request, params)
        provider = services.provider
        try:
            if grant_type == "authorization_code":
                call = partial(
                    provider.exchange_code,
                    client,
                    required(params, "code"),
                    redirect_uri=params.get("redirect_uri"),
                    code_verifier=params.get("code_verifier"),
                    requester=requester,
                )
            else:
                call = partial(
                    provider.refresh,
                    client,
                    required(params, "refresh_token"),
                    scope=params.get("scope"),
                    requester=requester,
                )
            answer: TokenAnswer = await run_in_threadpool(call)
        except OAuthError as error:
            raise _problem(error, via_basic) from None
    except OAuthProblem as problem:
        return problem.response()
    body = SsoTokenResponse(
        access_token=answer.access_token,
        expires_in=answer.expires_in,
        id_token=answer.id_token,
        refresh_token=answer.refresh_token,
        scope=answer.scope,
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)


async def _client(services: Services, request: Request, params: dict[str, str]) -> Integration:
    basic = basic_credentials(request.headers.get("authorization"))
    if basic is not None:
        if "client_secret" in params:
            raise OAuthProblem(
                "invalid_request",
                "Send the client secret once: in the Authorization header or in the body.",
            )
        if params.get("client_id", basic[0]) != basic[0]:
            raise OAuthProblem("invalid_request", "client_id differs from the Basic header's.")
        client_id: str | None = basic[0]
        secret: str | None = basic[1]
    else:
        client_id, secret = params.get("client_id"), params.get("client_secret")
    try:
        return await run_in_threadpool(services.integrations.authenticate, client_id, secret)
    except InvalidClient as error:
        raise _problem(error, basic is not None) from None


def _problem(error: OAuthError, via_basic: bool) -> OAuthProblem:
    if isinstance(error, InvalidClient):
        # RFC 6749 §5.2: 401, with a challenge when the client tried HTTP Basic.
        return OAuthProblem(
            error.code, error.description, status=401, headers=BASIC_CHALLENGE if via_basic else {}
        )
    return OAuthProblem(error.code, error.description)
