"""OpenID Connect discovery, the signing keys (JWKS) and userinfo.

Discovery and the JWKS are public and change rarely; a relying party that meets an
id_token signed by a key it does not know fetches the JWKS again, so a short cache
lifetime is enough after a rotation."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tokend.api.dependencies import get_principal
from tokend.api.routes.responses import errors
from tokend.bootstrap import Services
from tokend.domain.permissions import Operation
from tokend.domain.principal import Principal
from tokend.models import UserInfo

router = APIRouter(tags=["OpenID Connect"])

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"
USERINFO_PATH = "/oauth/userinfo"
PUBLIC_FOR_A_MINUTE = {"Cache-Control": "public, max-age=60"}


@router.get(
    DISCOVERY_PATH,
    response_model=dict[str, Any],
    responses=errors(),
    summary="OpenID Connect discovery document",
)
async def discovery(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    return JSONResponse(services.provider.discovery(), headers=PUBLIC_FOR_A_MINUTE)


@router.get(
    JWKS_PATH,
    response_model=dict[str, Any],
    responses=errors(),
    summary="The public keys that sign id_tokens (RFC 7517)",
    description="503 `not_configured` while TOKEND_SIGNING_KEY_SECRET is not set.",
)
async def jwks(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    keys = await run_in_threadpool(services.signing_keys.jwks)
    return JSONResponse(keys, headers=PUBLIC_FOR_A_MINUTE)


@router.api_route(
    USERINFO_PATH,
    methods=["GET", "POST"],
    response_model=UserInfo,
    responses=errors(401, 429),
    summary="Claims about the person an access token belongs to (OpenID Connect §5.3)",
)
async def userinfo(
    request: Request, principal: Annotated[Principal, Depends(get_principal)]
) -> JSONResponse:
    services: Services = request.app.state.services
    principal.ensure_allowed(Operation.READ_USER)
    return JSONResponse(
        services.provider.user_claims(principal.user), headers={"Cache-Control": "no-store"}
    )
