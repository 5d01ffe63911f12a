"""Request-scoped values for the routes: the services and the calling principal.

Both are async and read the request directly: FastAPI runs a plain ``def`` dependency
in the thread pool, and each dependency costs resolution time on every request,
which on ``GET /v2/user`` is most of the time not spent in uvicorn.
"""

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from tokend.api.bearer import bearer_secret
from tokend.bootstrap import Services
from tokend.domain.audit import Requester
from tokend.domain.principal import Principal
from tokend.service.authentication import Authenticator


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def authenticate(authenticator: Authenticator, secret: str | None) -> Principal:
    """For async code (routes, `tokend.verify`): a cache hit is answered right here on
    the event loop; only a miss, which reads the database, hops to a worker thread."""
    digest = authenticator.digest_of(secret)
    principal = authenticator.cached(digest)
    if principal is not None:
        return principal
    loaded: Principal = await run_in_threadpool(authenticator.load, secret or "", digest)
    return loaded


async def get_principal(request: Request) -> Principal:
    services: Services = request.app.state.services
    return await authenticate(
        services.authenticator, bearer_secret(request.headers.get("authorization"))
    )


async def get_requester(request: Request) -> Requester:
    """Where the request came from, for the audit log (the address is the one uvicorn
    reports, which honours X-Forwarded-For only from trusted proxies)."""
    return Requester(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


ServicesDep = Annotated[Services, Depends(get_services)]
RequesterDep = Annotated[Requester, Depends(get_requester)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
