"""POST /v1/introspect (RFC 7662) over real HTTP, on both databases."""

import time
from collections.abc import Callable

import httpx
import pytest

from tests.conftest import Account
from tests.support import Server
from tokend.bootstrap import Services
from tokend.service.clock import system_clock

INACTIVE = {"active": False}


@pytest.fixture
def resource_server(services: Services, server: Server) -> httpx.Client:
    name = f"rs-{system_clock()}"
    return server.client(services.admin.create_service(name).issued.secret)


def test_a_live_token_is_active_with_its_user(
    resource_server: httpx.Client, services: Services, alice: Account
) -> None:
    expires = system_clock() + 3_600_000
    made = services.tokens.create(
        services.authenticator.authenticate(alice.token), name="api", expires_at=expires
    )
    with resource_server as rs:
        response = rs.post("/v1/introspect", data={"token": made.secret})
    assert response.status_code == 200
    assert response.json() == {
        "active": True,
        "sub": alice.user_id,
        "username": alice.username,
        "token_type": "Bearer",
        "jti": made.token.id,
        "iat": made.token.created_at // 1000,
        "exp": expires // 1000,
        "scope": "*",
    }


def test_anything_not_live_is_exactly_inactive(
    resource_server: httpx.Client, server: Server, make_user: Callable[..., Account]
) -> None:
    owner = make_user("intro")
    with server.client(owner.token) as api:
        revoked = api.post("/v3/user/tokens", json={"name": "revoked"}).json()
        api.delete(f"/v3/user/tokens/{revoked['token']['id']}")
        expiring = api.post(
            "/v3/user/tokens", json={"name": "short", "expiresAt": system_clock() + 1000}
        ).json()
    with resource_server as rs:
        assert rs.post("/v1/introspect", data={"token": expiring["bearerToken"]}).json()["active"]
        time.sleep(1.1)
        for dead in (
            revoked["bearerToken"],
            expiring["bearerToken"],
            "tkd_" + "0" * 36,  # malformed (checksum)
            "not a token",
        ):
            response = rs.post("/v1/introspect", data={"token": dead})
            assert response.status_code == 200, dead
            assert response.json() == INACTIVE, dead
        for missing in ({}, {"token": ""}):  # RFC 7662: the token is required
            assert rs.post("/v1/introspect", data=missing).status_code == 400


def test_only_a_service_token_may_introspect(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        response = api.post("/v1/introspect", data={"token": alice.token})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    with server.client() as anonymous:
        assert anonymous.post("/v1/introspect", data={"token": alice.token}).status_code == 401


def test_a_service_token_cannot_manage_tokens(resource_server: httpx.Client) -> None:
    with resource_server as rs:
        assert rs.get("/v6/user/tokens").status_code == 403
        assert rs.post("/v3/user/tokens", json={"name": "x"}).status_code == 403
        assert rs.get("/v1/user/events").status_code == 403


def test_a_json_body_is_told_to_be_a_form(resource_server: httpx.Client) -> None:
    # The first thing people try; pydantic alone would answer "Field required".
    for body in ({"json": {"token": "tkd_x"}}, {"content": b"tkd_x"}):
        response = resource_server.post("/v1/introspect", **body)
        assert response.status_code == 400
        message = response.json()["error"]["message"]
        assert "application/x-www-form-urlencoded" in message
        assert "token=" in message
        assert "tkd_x" not in message
    json_message = resource_server.post("/v1/introspect", json={"token": "x"}).json()
    assert "not JSON" in json_message["error"]["message"]
