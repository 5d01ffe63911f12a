"""Who is calling, for every HTTP entrypoint: the bearer token's principal (answered
on the event loop when cached), the client's address, and the audit log's `Requester`."""

import ipaddress

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import Scope

from tokend.domain.audit import Requester
from tokend.domain.principal import Principal
from tokend.service.authentication import Authenticator

UNKNOWN_ADDRESS = "unknown"


async def authenticate(authenticator: Authenticator, secret: str | None) -> Principal:
    """For async code (routes, `tokend.verify`): a cache hit is answered right here on
    the event loop; only a miss, which reads the database, hops to a worker thread."""
    digest = authenticator.digest_of(secret)
    principal = authenticator.cached(digest)
    if principal is not None:
        return principal
    loaded: Principal = await run_in_threadpool(authenticator.load, secret or "", digest)
    return loaded


def client_address(scope: Scope) -> str:
    """The client's IP address: the peer's, or what a trusted proxy says it is (uvicorn
    rewrites ``scope["client"]``; `tokend serve` tells it which proxies to trust).

    Whatever a proxy passed on that is not an IP address counts as one address,
    ``unknown``: as a rate-limit key, free text would let each request choose a fresh
    counter (and a fresh Redis key)."""
    client = scope.get("client")
    if not client:
        return ""
    try:
        return str(ipaddress.ip_address(client[0]))
    except ValueError:
        return UNKNOWN_ADDRESS


def requester_of(scope: Scope) -> Requester:
    """Where a request came from, for the audit log: its address and User-Agent."""
    return Requester(
        ip=client_address(scope) or None, user_agent=Headers(scope=scope).get("user-agent")
    )
