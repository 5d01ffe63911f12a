"""RFC 7662 token introspection, for resource servers holding a service token."""

from typing import Annotated

from fastapi import APIRouter, Form

from tokend.api.dependencies import PrincipalDep, ServicesDep
from tokend.api.routes.responses import errors
from tokend.domain.permissions import as_scope
from tokend.domain.principal import Principal
from tokend.models import Introspection

router = APIRouter(tags=["Introspection"])

INACTIVE = Introspection(active=False)
BEARER = "Bearer"  # the OAuth 2.0 token type (RFC 6750) of every tokend token
# Longer than any secret; bounds what is hashed without saying what a secret looks like.
MAX_TOKEN_LENGTH = 4096


@router.post(
    "/v1/introspect",
    response_model=Introspection,
    responses=errors(400, 401, 403),
    summary="Introspect a token (RFC 7662)",
    description="For resource servers: authenticate with a service token (made by "
    "`tokend admin create-service`), send the token to check as the form field `token`. "
    'Anything not live answers exactly `{"active": false}`.',
)
def introspect(
    token: Annotated[str, Form(min_length=1, max_length=MAX_TOKEN_LENGTH)],
    principal: PrincipalDep,
    services: ServicesDep,
) -> Introspection:
    found = services.introspection.introspect(principal, token)
    return INACTIVE if found is None else _describe(found)


def _describe(found: Principal) -> Introspection:
    token = found.token
    return Introspection(
        active=True,
        sub=found.user.id,
        username=found.user.username,
        token_type=BEARER,
        jti=token.id,
        iat=token.created_at // 1000,
        exp=None if token.expires_at is None else token.expires_at // 1000,
        scope=as_scope(token.permissions),
        team_id=token.team_id,
        project_id=token.project_id,
    )
