"""GET /v1/user/events over real HTTP, on both databases."""

import uuid
from collections.abc import Callable

from tests.conftest import Account
from tests.support import Server
from tokend.bootstrap import Services


def test_events_record_who_did_what_from_where(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        api.headers["User-Agent"] = "events-test/2.0"
        made = api.post("/v3/user/tokens", json={"name": "audited"}).json()
        api.delete(f"/v3/user/tokens/{made['token']['id']}")
        response = api.get("/v1/user/events", params={"limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["pagination"]["count"] == 2
    revoked, created = body["events"]
    assert (revoked["type"], created["type"]) == ("token.revoked", "token.created")
    for event in (revoked, created):
        assert event["id"].startswith("evt_")
        assert event["tokenId"] == made["token"]["id"]
        assert event["actorTokenId"] == alice.token_id
        assert event["ip"] == "127.0.0.1"
        assert event["userAgent"] == "events-test/2.0"
        assert made["bearerToken"] not in str(event)
    assert revoked["token"]["revokedAt"] >= created["token"]["createdAt"]
    assert "revokedAt" not in created["token"]
    assert revoked["createdAt"] > created["createdAt"]


def test_events_page_with_until(server: Server, make_user: Callable[..., Account]) -> None:
    bob = make_user("bob")
    with server.client(bob.token) as api:
        for i in range(4):
            api.post("/v3/user/tokens", json={"name": f"t{i}"})
        seen = []
        page = api.get("/v1/user/events", params={"limit": 2}).json()
        seen += page["events"]
        while page["pagination"]["next"] is not None:
            page = api.get(
                "/v1/user/events", params={"limit": 2, "until": page["pagination"]["next"]}
            ).json()
            seen += page["events"]
        assert len(seen) == 5  # four creations and the bootstrap token
        assert len({event["id"] for event in seen}) == 5
        for bad in ({"limit": 0}, {"limit": 101}, {"until": -1}, {"limit": "x"}):
            assert api.get("/v1/user/events", params=bad).status_code == 400
    assert server.client().get("/v1/user/events").status_code == 401


def test_a_team_token_sees_who_acted_only_for_its_team_tokens(
    server: Server, services: Services, alice: Account
) -> None:
    team = services.admin.create_team(f"crew-{uuid.uuid4().hex[:8]}", owner=alice.username)
    with server.client(alice.token) as personal:
        personal.headers["User-Agent"] = "personal-laptop/1.0"
        made = personal.post("/v3/user/tokens", params={"teamId": team.id}, json={"name": "crew"})
    team_token = made.json()["bearerToken"]
    with server.client(team_token) as crew:
        crew.headers["User-Agent"] = "crew-ci/1.0"
        by_team = crew.post("/v3/user/tokens", json={"name": "crew-2"}).json()["token"]
        events = crew.get("/v1/user/events").json()["events"]
    # Made by the team token: who, from where and with what are the team's to see.
    mine = next(e for e in events if e["tokenId"] == by_team["id"])
    assert mine["actorTokenId"] == made.json()["token"]["id"]
    assert mine["userAgent"] == "crew-ci/1.0"
    assert mine["ip"] == "127.0.0.1"
    # Made by the user's personal token: its id, address and agent are not the team's.
    theirs = next(e for e in events if e["tokenId"] == made.json()["token"]["id"])
    assert theirs["type"] == "token.created"
    assert {"actorTokenId", "ip", "userAgent"}.isdisjoint(theirs)
    # The user's own (personal) token still sees everything.
    with server.client(alice.token) as personal:
        everything = personal.get("/v1/user/events").json()["events"]
    same = next(e for e in everything if e["id"] == theirs["id"])
    assert same["actorTokenId"] == alice.token_id
    assert same["userAgent"] == "personal-laptop/1.0"
