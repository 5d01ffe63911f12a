"""POST /v1/introspect (RFC 7662) over real HTTP, on both databases."""

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope

from tests.api.raw_http import raw_request, wire
from tests.conftest import Account
from tests.support import Server
from tokend.api.shortcuts import CachedTokenShortcuts
from tokend.bootstrap import Services
from tokend.service.clock import system_clock
from tokend.service.tokens import TeamRef

INACTIVE: dict[str, object] = {"active": False}
FORM = b"application/x-www-form-urlencoded"


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


def introspect_raw(
    server: Server, service: str, body: bytes, content_type: bytes = FORM
) -> httpx.Response:
    headers = [(b"Authorization", f"Bearer {service}".encode()), (b"Content-Type", content_type)]
    return raw_request(server.url, b"POST", b"/v1/introspect", headers, body)


def test_shortcut_and_route_answer_the_same_bytes(
    server: Server, services: Services, make_user: Callable[..., Account]
) -> None:
    owner = make_user("bytes")
    full = services.authenticator.authenticate(owner.token)
    team = services.admin.create_team(f"t-{uuid.uuid4().hex[:8]}", owner=owner.username)
    targets = [
        make_user("plain").token,
        services.tokens.create(full, name="team", team=TeamRef(team_id=team.id)).secret,
        services.tokens.create(full, name="ends", expires_at=system_clock() + 3_600_000).secret,
        services.tokens.create(full, name="some", permissions=["user:read", "tokens:read"]).secret,
    ]
    for target in targets:
        # A fresh service token and target: the first answer is the route's (two
        # misses), the next ones the shortcut's (two plain hits).
        service = services.admin.create_service(f"rs-{uuid.uuid4().hex[:10]}").issued.secret
        body = f"token={target}".encode()
        answers = [wire(introspect_raw(server, service, body)) for _ in range(3)]
        assert answers[0][0] == 200
        assert json.loads(answers[0][2])["active"] is True
        assert answers[1:] == [answers[0], answers[0]]


def test_bodies_the_shortcut_leaves_to_the_route(
    server: Server, services: Services, alice: Account
) -> None:
    service = services.admin.create_service(f"rs-{uuid.uuid4().hex[:10]}").issued.secret
    encoded = "".join(f"%{byte:02X}" for byte in alice.token.encode())
    cases: list[tuple[bytes, bytes, int, dict[str, object] | None]] = [
        (f"token={encoded}".encode(), FORM, 200, {"active": True}),  # decoded by the route
        (f"token={alice.token}&x=1".encode(), FORM, 200, {"active": True}),
        (f"x=1&token={alice.token}".encode(), FORM, 200, {"active": True}),
        (f"token={alice.token}".encode(), FORM + b"; charset=utf-8", 200, {"active": True}),
        (f"token={alice.token}".encode(), b"APPLICATION/X-WWW-FORM-URLENCODED", 200, None),
        (f"token={alice.token}"[:-1].encode(), FORM, 200, INACTIVE),
        (b"token=", FORM, 400, None),
        (b"token=" + b"A" * 5000, FORM, 400, None),
        (json.dumps({"token": alice.token}).encode(), b"application/json", 400, None),
        (f"token={alice.token}".encode(), b"text/plain", 400, None),
    ]
    for _ in range(2):  # the service token and alice's cached after the first round
        for body, content_type, status, expected in cases:
            answer = introspect_raw(server, service, body, content_type)
            assert answer.status_code == status, (body[:40], content_type, answer.text)
            if expected is not None:
                assert {k: answer.json()[k] for k in expected} == expected, body[:40]
    # A user's token, even cached, is refused as before; no token at all is 401.
    for _ in range(2):
        mine = introspect_raw(server, alice.token, f"token={alice.token}".encode())
        assert mine.status_code == 403
    assert raw_request(
        server.url, b"POST", b"/v1/introspect", [(b"Content-Type", FORM)], b"token=x"
    ).status_code == 401  # fmt: skip


def test_a_chunked_body_goes_to_the_route(
    server: Server, services: Services, alice: Account
) -> None:
    service = services.admin.create_service(f"rs-{uuid.uuid4().hex[:10]}").issued.secret
    with server.client(service) as rs:
        for _ in range(2):
            body = iter([b"token=", alice.token.encode()])  # no Content-Length: chunked
            answer = rs.post(
                "/v1/introspect", content=body, headers={"Content-Type": FORM.decode()}
            )
            assert answer.json()["sub"] == alice.user_id


def run_shortcuts(
    services: Services, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> tuple[list[Message], bytes | None]:
    """The shortcuts over an inner app that reads the whole body: (what they sent,
    the body the inner app read, or None when it was not reached)."""
    sent: list[Message] = []
    reached: list[bytes] = []
    pending = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]

    async def receive() -> Message:
        return pending.pop(0)

    async def inner(scope: Scope, receive: Receive, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        reached.append(body)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/v1/introspect"}
    scope["headers"] = headers
    scope["app"] = SimpleNamespace(state=SimpleNamespace(services=services))
    asyncio.run(CachedTokenShortcuts(inner)(scope, receive, send))
    return sent, reached[0] if reached else None


def test_what_falls_through_reaches_the_route_whole(
    services: Services, make_user: Callable[..., Account]
) -> None:
    target = make_user("whole").token
    service = services.admin.create_service(f"rs-{uuid.uuid4().hex[:10]}").issued.secret
    for secret in (target, service):
        services.authenticator.authenticate(secret)  # both cached: plain hits from now on

    def headers(body: bytes, caller: str = service) -> list[tuple[bytes, bytes]]:
        return [
            (b"authorization", f"Bearer {caller}".encode()),
            (b"content-type", FORM),
            (b"content-length", str(len(body)).encode()),
        ]

    plain = f"token={target}".encode()
    sent, reached = run_shortcuts(services, headers(plain), [plain[:10], plain[10:]])
    assert reached is None
    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"])["username"].startswith("whole-")

    for body in (f"token={target}&x=1".encode(), b"token=%41", f"token={target}x".encode()):
        sent, reached = run_shortcuts(services, headers(body), [body[:7], body[7:]])
        assert (sent, reached) == ([], body)
    sent, reached = run_shortcuts(services, headers(plain, caller=target), [plain])
    assert (sent, reached) == ([], plain)  # not a service: the route refuses it
    chunked = headers(plain)[:2]
    assert run_shortcuts(services, chunked, [plain]) == ([], plain)
