"""GET /v1/user/events over real HTTP, on both databases."""

from collections.abc import Callable

from tests.conftest import Account
from tests.support import Server


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
