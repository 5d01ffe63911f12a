"""Request-scoped values for the routes: the services and the calling principal.

Both are async and read the request directly: FastAPI runs a plain ``def`` dependency
in the thread pool, and each dependency costs resolution time on every request,
which on ``GET /v2/user`` is most of the time not spent in uvicorn.
"""

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from tokend.bootstrap import Services
from tokend.domain.audit import Requester
from tokend.domain.errors import AuthenticationError
from tokend.domain.principal import Principal
from tokend.http.auth import authenticate, client_address, requester_of
from tokend.http.bearer import bearer_secret


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_principal(request: Request) -> Principal:
    services: Services = request.app.state.services
    secret = bearer_secret(request.headers.get("authorization"))
    try:
        return await authenticate(services.authenticator, secret)
    except AuthenticationError:
        # Only failing requests are limited (SPEC §7): a live token is never refused
        # for what others behind the same address (a NAT, a proxy) got wrong.
        limiter = services.rate_limiter
        if limiter.enabled:
            address = client_address(request.scope)
            limiter.check(address)  # blocked already: 429, and not counted again
            # In a thread: the count may live in Redis. Raises RateLimited past the limit.
            await run_in_threadpool(limiter.record_failure, address)
        raise


async def get_requester(request: Request) -> Requester:
    """Where the request came from, for the audit log."""
    return requester_of(request.scope)


ServicesDep = Annotated[Services, Depends(get_services)]
RequesterDep = Annotated[Requester, Depends(get_requester)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
