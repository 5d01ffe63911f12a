"""Request-scoped values for the routes: the services and the calling principal."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from tokend.bootstrap import Services
from tokend.domain.principal import Principal

# auto_error=False: a missing token is answered by our own 401 (missing_token),
# not FastAPI's; the scheme still documents the bearer security in OpenAPI.
bearer = HTTPBearer(auto_error=False, description="A tokend token: `tkd_...`")


async def get_services(request: Request) -> Services:
    # async: FastAPI would run a plain def in the thread pool, a hop on every request.
    services: Services = request.app.state.services
    return services


async def get_principal(
    services: Annotated[Services, Depends(get_services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    authenticator = services.authenticator
    secret = credentials.credentials if credentials else None
    digest = authenticator.digest_of(secret)
    # A cache hit is answered right here on the event loop; only a miss, which reads
    # the database, is worth the hop to a worker thread.
    principal = authenticator.cached(digest)
    if principal is None:
        principal = await run_in_threadpool(authenticator.load, secret or "", digest)
    return principal


ServicesDep = Annotated[Services, Depends(get_services)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
