"""The Vercel-compatible token endpoints."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from tokend.api.dependencies import PrincipalDep, RequesterDep, ServicesDep
from tokend.api.routes.responses import errors
from tokend.convert import auth_token
from tokend.domain.tokens import MAX_TIMESTAMP_MS
from tokend.models import (
    CreateTokenRequest,
    CreateTokenResponse,
    DeleteTokenResponse,
    GetTokenResponse,
    ListTokensResponse,
    Pagination,
    RotateTokenRequest,
)
from tokend.service.tokens import TeamRef

router = APIRouter(tags=["Authentication"])

TokenId = Annotated[
    str, Path(description="A token id, or `current` for the calling token.", examples=["current"])
]
Cursor = Annotated[int | None, Query(ge=0, le=MAX_TIMESTAMP_MS)]
TeamParam = Annotated[str | None, Query(pattern=r"^[0-9A-Za-z_-]{1,64}$")]


@router.post(
    "/v3/user/tokens",
    response_model=CreateTokenResponse,
    responses=errors(400, 401, 403, 429),
    summary="Create an auth token",
)
def create_token(
    body: CreateTokenRequest,
    principal: PrincipalDep,
    services: ServicesDep,
    requester: RequesterDep,
    teamId: TeamParam = None,  # noqa: N803 - the API's own spelling
    slug: TeamParam = None,
) -> CreateTokenResponse:
    issued = services.tokens.create(
        principal,
        name=body.name,
        expires_at=body.expires_at,
        project_id=body.project_id,
        team=TeamRef(team_id=teamId, slug=slug),
        requester=requester,
        permissions=body.permissions,
    )
    return CreateTokenResponse(token=auth_token(issued.token), bearer_token=issued.secret)


@router.get(
    "/v6/user/tokens",
    response_model=ListTokensResponse,
    responses=errors(400, 401, 403, 429),
    summary="List auth tokens",
)
@router.get("/v5/user/tokens", response_model=ListTokensResponse, include_in_schema=False)
def list_tokens(
    principal: PrincipalDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    until: Cursor = None,
    since: Cursor = None,
) -> ListTokensResponse:
    page = services.tokens.list(principal, limit=limit, until=until, since=since)
    return ListTokensResponse(
        tokens=[auth_token(token) for token in page.tokens],
        pagination=Pagination(count=len(page.tokens), next=page.next, prev=page.prev),
    )


@router.get(
    "/v5/user/tokens/{tokenId}",
    response_model=GetTokenResponse,
    responses=errors(400, 401, 403, 404, 429),
    summary="Get auth token metadata",
)
def get_token(
    tokenId: TokenId,  # noqa: N803
    principal: PrincipalDep,
    services: ServicesDep,
) -> GetTokenResponse:
    return GetTokenResponse(token=auth_token(services.tokens.get(principal, tokenId)))


@router.delete(
    "/v3/user/tokens/{tokenId}",
    response_model=DeleteTokenResponse,
    responses=errors(400, 401, 403, 404, 429),
    summary="Delete an authentication token",
)
def delete_token(
    tokenId: TokenId,  # noqa: N803
    principal: PrincipalDep,
    services: ServicesDep,
    requester: RequesterDep,
) -> DeleteTokenResponse:
    return DeleteTokenResponse(token_id=services.tokens.revoke(principal, tokenId, requester))


@router.post(
    "/v3/user/tokens/{tokenId}/rotate",
    response_model=CreateTokenResponse,
    responses=errors(400, 401, 403, 404),
    summary="Rotate a token: revoke it and issue its successor",
    description="One transaction revokes the token and issues a new one with the same "
    "name, scope, project and lifetime length (within the lifecycle policy's maximum). "
    "The new secret is shown only here. With `overlapMs` the old token is not revoked "
    "but keeps working until now + overlapMs (at most 24 hours), so a deployment can "
    "swap secrets without downtime.",
)
def rotate_token(
    tokenId: TokenId,  # noqa: N803
    principal: PrincipalDep,
    services: ServicesDep,
    requester: RequesterDep,
    body: RotateTokenRequest | None = None,
) -> CreateTokenResponse:
    overlap_ms = body.overlap_ms if body is not None else None
    issued = services.tokens.rotate(principal, tokenId, requester, overlap_ms=overlap_ms)
    return CreateTokenResponse(token=auth_token(issued.token), bearer_token=issued.secret)
