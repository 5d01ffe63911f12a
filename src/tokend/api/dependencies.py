"""Request-scoped values for the routes: the services and the calling principal."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tokend.bootstrap import Services
from tokend.domain.principal import Principal

# auto_error=False: a missing token is answered by our own 401 (missing_token),
# not FastAPI's; the scheme still documents the bearer security in OpenAPI.
bearer = HTTPBearer(auto_error=False, description="A tokend token: `tkd_...`")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_principal(
    services: Annotated[Services, Depends(get_services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    secret = credentials.credentials if credentials else None
    return services.authenticator.authenticate(secret)


ServicesDep = Annotated[Services, Depends(get_services)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
