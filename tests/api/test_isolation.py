"""Who sees which tokens: users, team-scoped and project-scoped tokens."""

import uuid
from collections.abc import Callable

from tests.conftest import Account
from tests.support import Server
from tokend.bootstrap import Services


def ids(server: Server, token: str) -> set[str]:
    with server.client(token) as api:
        return {t["id"] for t in api.get("/v6/user/tokens", params={"limit": 100}).json()["tokens"]}


def test_other_users_tokens_are_invisible(
    server: Server, make_user: Callable[..., Account]
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    assert alice.token_id not in ids(server, bob.token)
    with server.client(bob.token) as api:
        for response in (
            api.get(f"/v5/user/tokens/{alice.token_id}"),
            api.delete(f"/v3/user/tokens/{alice.token_id}"),
        ):
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
    with server.client(alice.token) as api:
        assert api.get("/v2/user").status_code == 200


def new_team(services: Services, owner: Account) -> tuple[str, str]:
    slug = f"team-{uuid.uuid4().hex[:8]}"
    team = services.admin.create_team(slug, owner=owner.username)
    return team.id, slug


def test_team_scoped_token_sees_and_makes_only_its_team(
    server: Server, services: Services, alice: Account
) -> None:
    team_a, slug_a = new_team(services, alice)
    team_b, _ = new_team(services, alice)
    with server.client(alice.token) as api:
        by_id = api.post("/v3/user/tokens", params={"teamId": team_a}, json={"name": "a"}).json()
        by_slug = api.post("/v3/user/tokens", params={"slug": slug_a}, json={"name": "a2"}).json()
        other = api.post("/v3/user/tokens", params={"teamId": team_b}, json={"name": "b"}).json()
        personal = api.post("/v3/user/tokens", json={"name": "me"}).json()
    assert by_id["token"]["scopes"][0] == {
        "type": "team",
        "teamId": team_a,
        "origin": "manual",
        "createdAt": by_id["token"]["createdAt"],
    }
    assert by_slug["token"]["scopes"][0]["teamId"] == team_a

    team_token = by_id["bearerToken"]
    assert ids(server, team_token) == {by_id["token"]["id"], by_slug["token"]["id"]}
    assert {other["token"]["id"], personal["token"]["id"]} <= ids(server, alice.token)

    with server.client(team_token) as api:
        assert api.get(f"/v5/user/tokens/{other['token']['id']}").status_code == 404
        assert api.delete(f"/v3/user/tokens/{personal['token']['id']}").status_code == 404
        made = api.post("/v3/user/tokens", json={"name": "inherits"}).json()
        assert made["token"]["scopes"][0]["teamId"] == team_a
        refused = api.post("/v3/user/tokens", params={"teamId": team_b}, json={"name": "x"})
        assert refused.status_code == 403
        assert api.delete(f"/v3/user/tokens/{by_slug['token']['id']}").status_code == 200


def test_creating_for_a_team_needs_membership(
    server: Server, services: Services, make_user: Callable[..., Account]
) -> None:
    owner, outsider = make_user("owner"), make_user("outsider")
    team_id, slug = new_team(services, owner)
    with server.client(outsider.token) as api:
        for params in ({"teamId": team_id}, {"slug": slug}, {"teamId": "team_nope"}):
            response = api.post("/v3/user/tokens", params=params, json={"name": "x"})
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "forbidden"
    services.admin.add_member(slug, outsider.username)
    with server.client(outsider.token) as api:
        response = api.post("/v3/user/tokens", params={"slug": slug}, json={"name": "x"})
        assert response.status_code == 200


def test_project_scoped_token_cannot_manage_tokens(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        made = api.post("/v3/user/tokens", json={"name": "p", "projectId": "prj_123"}).json()
    with server.client(made["bearerToken"]) as api:
        assert api.get("/v2/user").status_code == 200
        for response in (
            api.get("/v6/user/tokens"),
            api.get("/v5/user/tokens/current"),
            api.post("/v3/user/tokens", json={"name": "x"}),
            api.delete("/v3/user/tokens/current"),
        ):
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "forbidden"
