"""`tokend.verify` inside another service: a FastAPI app on a real uvicorn server,
verifying tokens that a real `tokend serve` issues and revokes, on both databases."""

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request

from tests.conftest import Account
from tests.support import Server, eventually, serving
from tokend.bootstrap import Services
from tokend.domain.errors import Conflict
from tokend.verify import BearerAuthMiddleware, VerifiedToken, Verifier, require_token


def describe(verified: VerifiedToken) -> dict[str, Any]:
    return {
        "username": verified.user.username,
        "tokenId": verified.token_id,
        "scope": verified.scope.type.value,
        "teamId": verified.scope.team_id,
    }


def guarded_app(verifier: Verifier) -> FastAPI:
    """A resource server whose every route is behind the middleware."""
    app = FastAPI()
    app.add_middleware(BearerAuthMiddleware, verifier=verifier, exempt={"/health"})

    @app.get("/whoami")
    async def whoami(request: Request) -> dict[str, Any]:
        return describe(request.state.tokend)

    @app.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    return app


def dependency_app(verifier: Verifier) -> FastAPI:
    """A resource server that asks for the token per route, with the dependency."""
    app = FastAPI()

    @app.get("/whoami")
    def whoami(verified: Annotated[VerifiedToken, Depends(require_token(verifier))]) -> Any:
        return describe(verified)

    deployments_reader = require_token(verifier, "deployments:read")

    @app.get("/deployments")
    def deployments(verified: Annotated[VerifiedToken, Depends(deployments_reader)]) -> Any:
        return {
            "permissions": None if verified.permissions is None else sorted(verified.permissions)
        }

    return app


@dataclass(frozen=True)
class ResourceServers:
    guarded: str  # base URL of the app behind the middleware
    dependency: str  # base URL of the app using the dependency
    verifier: Verifier


@pytest.fixture
def resource(database_url: str) -> Iterator[ResourceServers]:
    # Cached for an hour: only the revocation feed can make it forget a token.
    verifier = Verifier(database_url=database_url, cache_ttl_s=3600)
    with serving(guarded_app(verifier)) as guarded, serving(dependency_app(verifier)) as plain:
        yield ResourceServers(guarded, plain, verifier)
    verifier.close()


def get(url: str, secret: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return httpx.get(url, headers=headers, timeout=10)


def test_the_middleware_gives_the_handler_who_is_calling(
    resource: ResourceServers, alice: Account
) -> None:
    for url in (resource.guarded, resource.dependency):
        response = get(url + "/whoami", alice.token)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "username": alice.username,
            "tokenId": alice.token_id,
            "scope": "user",
            "teamId": None,
        }


def test_a_team_token_carries_its_team(
    resource: ResourceServers, server: Server, services: Services, alice: Account
) -> None:
    team = services.admin.create_team(f"v-{alice.username}", owner=alice.username)
    with server.client(alice.token) as api:
        secret = api.post("/v3/user/tokens", params={"teamId": team.id}, json={"name": "t"}).json()[
            "bearerToken"
        ]
    assert get(resource.guarded + "/whoami", secret).json()["teamId"] == team.id


def test_refusals_in_tokends_error_format(resource: ResourceServers, alice: Account) -> None:
    missing = get(resource.guarded + "/whoami")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "missing_token"
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="tokend"'

    # Another last character (a token ending in "0" would otherwise be sent unchanged).
    other_last = "0" if alice.token[-1] != "0" else "1"
    malformed = get(resource.guarded + "/whoami", alice.token[:-1] + other_last)
    assert malformed.status_code == 401
    assert malformed.json()["error"]["code"] == "invalid_token"
    assert alice.token[:-1] not in malformed.text

    dependency = get(resource.dependency + "/whoami")
    assert dependency.status_code == 401
    assert dependency.json() == {
        "detail": {
            "code": "missing_token",
            "message": "Authentication required: send 'Authorization: Bearer <token>'.",
        }
    }
    assert get(resource.guarded + "/health").status_code == 200  # exempt


def test_a_revocation_by_tokend_reaches_the_resource_server(
    resource: ResourceServers, server: Server, alice: Account
) -> None:
    with server.client(alice.token) as api:
        made = api.post("/v3/user/tokens", json={"name": "resource"}).json()
    secret = made["bearerToken"]
    assert get(resource.guarded + "/whoami", secret).status_code == 200  # cached now
    assert resource.verifier.verify(secret).token_id == made["token"]["id"]

    with server.client(alice.token) as api:
        assert api.delete(f"/v3/user/tokens/{made['token']['id']}").status_code == 200

    assert eventually(lambda: get(resource.guarded + "/whoami", secret).status_code == 401)
    assert get(resource.dependency + "/whoami", secret).status_code == 401


def test_a_route_can_require_a_permission(
    resource: ResourceServers, services: Services, alice: Account
) -> None:
    with contextlib.suppress(Conflict):  # the database is shared by the session's tests
        services.permissions.add("deployments:read", "Read deployments.")
    caller = services.authenticator.authenticate(alice.token)
    reader = services.tokens.create(caller, name="ci", permissions=["deployments:read"]).secret
    other = services.tokens.create(caller, name="ci", permissions=["tokens:read"]).secret
    url = resource.dependency + "/deployments"
    assert get(url, reader).json() == {"permissions": ["deployments:read"]}
    assert get(url, alice.token).json() == {"permissions": None}  # unrestricted: every one
    refused = get(url, other)
    assert refused.status_code == 403
    assert "deployments:read" in refused.text
    assert get(url).status_code == 401
