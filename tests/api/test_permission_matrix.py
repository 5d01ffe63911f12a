"""Every bearer endpoint of tokend by token kinds (personal and team, unrestricted,
restricted to nothing, and to each of tokend's permissions): allowed exactly when the
permission the endpoint needs is held, 403 `forbidden` otherwise. On both databases,
through a live server.

The expectations are written out here, not read from the domain's table, so that a
change to the table shows up as a failure to look at."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from tests.support import Server
from tokend.bootstrap import Services
from tokend.service.tokens import TeamRef

ALL = [
    "tokens:read",
    "tokens:write",
    "tokens:rotate-self",
    "events:read",
    "user:read",
    "webhooks:read",
    "webhooks:write",
]
# A public address, given as a literal so no DNS is needed; subscribed only to leaks,
# which the matrix never reports, so nothing is ever sent to it.
HOOK_URL, HOOK_EVENTS = "https://1.1.1.1/matrix", ["token.leaked"]
HOOK = {"url": HOOK_URL, "events": HOOK_EVENTS}
# None: unrestricted; [] restricted to nothing; then one of tokend's permissions each.
PERMISSION_SETS: list[list[str] | None] = [None, [], *([name] for name in ALL)]


@dataclass(frozen=True)
class Caller:
    token: str
    token_id: str
    permissions: list[str] | None
    user_id: str
    team_id: str | None
    target: Callable[[], str]  # a fresh token of the same user (and team) to act on
    webhook: Callable[[], str]  # a fresh webhook of the same owner (user or team)


@dataclass(frozen=True)
class Endpoint:
    name: str
    needs: frozenset[str]  # any one of these allows it
    call: Callable[[httpx.Client, Caller], httpx.Response]


def _create_body(caller: Caller) -> dict[str, object]:
    body: dict[str, object] = {"name": "made by the matrix"}
    if caller.permissions is not None:
        body["permissions"] = caller.permissions  # a subset of its own: itself
    return body


ENDPOINTS = [
    Endpoint("GET /v2/user", frozenset({"user:read"}), lambda http, c: http.get("/v2/user")),
    Endpoint(
        "GET /oauth/userinfo", frozenset({"user:read"}), lambda http, c: http.get("/oauth/userinfo")
    ),
    Endpoint(
        "GET /v6/user/tokens",
        frozenset({"tokens:read"}),
        lambda http, c: http.get("/v6/user/tokens"),
    ),
    Endpoint(
        "GET /v5/user/tokens",
        frozenset({"tokens:read"}),
        lambda http, c: http.get("/v5/user/tokens"),
    ),
    Endpoint(
        "GET /v5/user/tokens/{id}",
        frozenset({"tokens:read"}),
        lambda http, c: http.get(f"/v5/user/tokens/{c.target()}"),
    ),
    Endpoint(
        "GET /v5/user/tokens/current",
        frozenset({"tokens:read"}),
        lambda http, c: http.get("/v5/user/tokens/current"),
    ),
    Endpoint(
        "POST /v3/user/tokens",
        frozenset({"tokens:write"}),
        lambda http, c: http.post("/v3/user/tokens", json=_create_body(c)),
    ),
    Endpoint(
        "DELETE /v3/user/tokens/{id}",
        frozenset({"tokens:write"}),
        lambda http, c: http.delete(f"/v3/user/tokens/{c.target()}"),
    ),
    Endpoint(
        "POST /v3/user/tokens/{id}/rotate",
        frozenset({"tokens:write"}),
        lambda http, c: http.post(f"/v3/user/tokens/{c.target()}/rotate"),
    ),
    Endpoint(
        "POST /v3/user/tokens/current/rotate",
        frozenset({"tokens:write", "tokens:rotate-self"}),
        lambda http, c: http.post("/v3/user/tokens/current/rotate"),
    ),
    Endpoint(
        "POST /v3/user/tokens/{own id}/rotate",
        frozenset({"tokens:write", "tokens:rotate-self"}),
        lambda http, c: http.post(f"/v3/user/tokens/{c.token_id}/rotate"),
    ),
    Endpoint(
        "GET /v1/user/events",
        frozenset({"events:read"}),
        lambda http, c: http.get("/v1/user/events"),
    ),
    Endpoint(
        "POST /v1/webhooks",
        frozenset({"webhooks:write"}),
        lambda http, c: http.post("/v1/webhooks", json=HOOK),
    ),
    Endpoint(
        "GET /v1/webhooks", frozenset({"webhooks:read"}), lambda http, c: http.get("/v1/webhooks")
    ),
    Endpoint(
        "GET /v1/webhooks/{id}",
        frozenset({"webhooks:read"}),
        lambda http, c: http.get(f"/v1/webhooks/{c.webhook()}"),
    ),
    Endpoint(
        "DELETE /v1/webhooks/{id}",
        frozenset({"webhooks:write"}),
        lambda http, c: http.delete(f"/v1/webhooks/{c.webhook()}"),
    ),
    Endpoint(
        "GET /v1/webhooks/{id}/deliveries",
        frozenset({"webhooks:read"}),
        lambda http, c: http.get(f"/v1/webhooks/{c.webhook()}/deliveries"),
    ),
]


def _caller(services: Services, permissions: list[str] | None, team: bool) -> Caller:
    username = f"matrix-{uuid.uuid4().hex[:10]}"
    owner = services.admin.create_user(username)
    full = services.authenticator.authenticate(owner.issued.secret)
    team_ref = None
    if team:
        made = services.admin.create_team(f"t-{username}", owner=username)
        team_ref = TeamRef(team_id=made.id)
    issued = services.tokens.create(full, name="caller", team=team_ref, permissions=permissions)

    def target() -> str:
        return services.tokens.create(full, name="target", team=team_ref).token.id

    def webhook() -> str:
        # Made by an unrestricted token of the same scope, so it is the caller's.
        maker = services.tokens.create(full, name="hooks", team=team_ref).secret
        made = services.webhooks.create(
            services.authenticator.authenticate(maker), url=HOOK_URL, events=HOOK_EVENTS
        )
        return made.webhook.id

    return Caller(
        issued.secret, issued.token.id, permissions, owner.user.id,
        team_ref.team_id if team_ref else None, target, webhook,
    )  # fmt: skip


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.name)
@pytest.mark.parametrize("kind", ["personal", "team"])
def test_each_endpoint_needs_its_permission(
    server: Server, services: Services, endpoint: Endpoint, kind: str
) -> None:
    for permissions in PERMISSION_SETS:
        caller = _caller(services, permissions, team=kind == "team")
        allowed = permissions is None or bool(endpoint.needs & set(permissions))
        headers = {"Authorization": f"Bearer {caller.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
            answer = endpoint.call(http, caller)
        what = f"{endpoint.name} with {kind} token restricted to {permissions}"
        if allowed:
            assert answer.status_code in (200, 201), f"{what}: {answer.status_code} {answer.text}"
        else:
            assert answer.status_code == 403, f"{what}: {answer.status_code} {answer.text}"
            assert answer.json()["error"]["code"] == "forbidden"
            assert " or ".join(sorted(endpoint.needs)) in answer.json()["error"]["message"]


def test_introspection_stays_a_service_tokens_whatever_the_permissions(
    server: Server, services: Services
) -> None:
    for permissions in PERMISSION_SETS:
        caller = _caller(services, permissions, team=False)
        answer = httpx.post(
            f"{server.url}/v1/introspect",
            data={"token": caller.token},
            headers={"Authorization": f"Bearer {caller.token}"},
            timeout=30,
        )
        assert answer.status_code == 403


def test_introspection_says_the_permissions(server: Server, services: Services) -> None:
    service = services.admin.create_service(f"rs-{uuid.uuid4().hex[:10]}").issued.secret
    for permissions, scope in (
        (None, "*"),
        ([], ""),
        (["user:read", "tokens:read"], "tokens:read user:read"),
    ):
        caller = _caller(services, permissions, team=False)
        answer = httpx.post(
            f"{server.url}/v1/introspect",
            data={"token": caller.token},
            headers={"Authorization": f"Bearer {service}"},
            timeout=30,
        ).json()
        assert answer["active"] is True
        assert answer["scope"] == scope


def test_a_cached_restricted_token_is_still_checked(server: Server, services: Services) -> None:
    # The second request is a cache hit, which GET /v2/user answers on a shortcut.
    caller = _caller(services, ["tokens:read"], team=False)
    headers = {"Authorization": f"Bearer {caller.token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        assert [http.get("/v2/user").status_code for _ in range(3)] == [403, 403, 403]
        assert http.get("/v6/user/tokens").status_code == 200


@pytest.mark.parametrize("kind", ["personal", "team"])
def test_the_gateway_check_needs_none_and_checks_those_asked(
    server: Server, services: Services, kind: str
) -> None:
    # GET /v1/auth/check itself needs no permission (a token restricted to a resource
    # server's names is the one a gateway sees most); ?permission= asks for any of them.
    for permissions in PERMISSION_SETS:
        caller = _caller(services, permissions, team=kind == "team")
        headers = {"Authorization": f"Bearer {caller.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
            answer = http.get("/v1/auth/check")
            assert answer.status_code == 200, (permissions, answer.text)
            expected = "*" if permissions is None else " ".join(sorted(permissions))
            assert answer.headers["x-tokend-permissions"] == expected
            for name in ALL:
                asked = http.get("/v1/auth/check", params={"permission": name})
                held = permissions is None or name in permissions
                assert asked.status_code == (200 if held else 403), (permissions, name)
