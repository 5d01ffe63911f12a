"""OpenID Connect discovery, the signing keys (JWKS) and userinfo.

Discovery and the JWKS are public and change rarely; a relying party that meets an
id_token signed by a key it does not know fetches the JWKS again, so a short cache
lifetime is enough after a rotation."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tokend.api.dependencies import get_principal
from tokend.bootstrap import Services
from tokend.domain.errors import AuthenticationError, RateLimited
from tokend.http.errors import REALM, rate_limited

router = APIRouter(tags=["OpenID Connect"])

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"
USERINFO_PATH = "/oauth/userinfo"
PUBLIC_FOR_A_MINUTE = {"Cache-Control": "public, max-age=60"}


@router.get(DISCOVERY_PATH, summary="OpenID Connect discovery document")
async def discovery(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    return JSONResponse(services.provider.discovery(), headers=PUBLIC_FOR_A_MINUTE)


@router.get(JWKS_PATH, summary="The public keys that sign id_tokens (RFC 7517)")
async def jwks(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    keys = await run_in_threadpool(services.signing_keys.jwks)
    return JSONResponse(keys, headers=PUBLIC_FOR_A_MINUTE)


@router.api_route(
    USERINFO_PATH,
    methods=["GET", "POST"],
    summary="Claims about the person an access token belongs to (OpenID Connect §5.3)",
)
async def userinfo(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    try:
        principal = await get_principal(request)
    except RateLimited as exc:
        return rate_limited(exc)
    except AuthenticationError as exc:
        # RFC 6750 §3: the challenge, and the error in OAuth's shape.
        body: dict[str, Any] = {"error": "invalid_token", "error_description": str(exc)}
        challenge = f'{REALM}, error="invalid_token"'
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": challenge})
    return JSONResponse(
        services.provider.user_claims(principal.user), headers={"Cache-Control": "no-store"}
    )
