"""The five Vercel-compatible endpoints over real HTTP, on both databases."""

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.conftest import Account
from tests.support import Server
from tokend.domain.tokens import MAX_TIMESTAMP_MS
from tokend.service.clock import system_clock as now_ms


def test_create_returns_the_secret_once_and_metadata(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        response = api.post("/v3/user/tokens", json={"name": "deploy"})
        assert response.status_code == 200
        body = response.json()
        secret, token = body["bearerToken"], body["token"]
        assert secret.startswith("tkd_")
        assert len(secret) == 40
        assert token["name"] == "deploy"
        assert token["type"] == "oauth2-token"
        assert token["prefix"] == "tkd_"
        assert token["suffix"] == secret[-4:]
        assert token["origin"] == "manual"
        assert token["activeAt"] == token["createdAt"]
        assert token["scopes"] == [
            {"type": "user", "origin": "manual", "createdAt": token["createdAt"]}
        ]
        assert "expiresAt" not in token
        assert "revokedAt" not in token
        assert secret not in api.get(f"/v5/user/tokens/{token['id']}").text

    with server.client(secret) as api:
        assert api.get("/v5/user/tokens/current").json()["token"]["id"] == token["id"]


def test_create_with_expiry_and_the_token_stops_at_expiry(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        expires = now_ms() + 1500
        body = api.post("/v3/user/tokens", json={"name": "short", "expiresAt": expires}).json()
        assert body["token"]["expiresAt"] == expires
        assert body["token"]["scopes"][0]["expiresAt"] == expires
    with server.client(body["bearerToken"]) as short:
        assert short.get("/v2/user").status_code == 200
        time.sleep(max(0, expires - now_ms()) / 1000 + 0.1)
        response = short.get("/v2/user")
        assert response.status_code == 401
        assert response.json()["error"] == {
            "code": "invalid_token",
            "message": "The token has expired.",
        }
    with server.client(alice.token) as api:
        # Expired tokens stay listed until deleted.
        listed = api.get("/v6/user/tokens", params={"limit": 100}).json()["tokens"]
        assert body["token"]["id"] in [token["id"] for token in listed]


def test_get_user(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        user = api.get("/v2/user").json()["user"]
    assert user["id"] == alice.user_id
    assert user["username"] == alice.username
    assert user["email"] == f"{alice.username}@localhost"
    assert isinstance(user["createdAt"], int)


def test_list_get_delete(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        made = [api.post("/v3/user/tokens", json={"name": f"t{i}"}).json() for i in range(3)]
        listed = api.get("/v6/user/tokens").json()
        ids = [token["id"] for token in listed["tokens"]]
        assert ids == [m["token"]["id"] for m in reversed(made)] + [alice.token_id]
        assert listed["pagination"] == {"count": 4, "next": None, "prev": None}
        assert api.get("/v5/user/tokens").json() == listed

        victim = made[1]["token"]["id"]
        assert api.get(f"/v5/user/tokens/{victim}").json()["token"] == made[1]["token"]
        assert api.delete(f"/v3/user/tokens/{victim}").json() == {"tokenId": victim}
        assert api.get(f"/v5/user/tokens/{victim}").status_code == 404
        assert api.delete(f"/v3/user/tokens/{victim}").status_code == 404
        assert victim not in [t["id"] for t in api.get("/v6/user/tokens").json()["tokens"]]
    with server.client(made[1]["bearerToken"]) as revoked:
        response = revoked.get("/v2/user")
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "The token has been revoked."


def test_delete_current_revokes_the_calling_token(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        assert api.delete("/v3/user/tokens/current").json() == {"tokenId": alice.token_id}
        assert api.get("/v2/user").status_code == 401


def test_active_at_moves_forward_coalesced(server: Server, alice: Account) -> None:
    # The server runs with the default 60 s resolution: a use right after creation
    # must not write, so activeAt stays at createdAt.
    with server.client(alice.token) as api:
        made = api.post("/v3/user/tokens", json={"name": "busy"}).json()
    with server.client(made["bearerToken"]) as busy:
        for _ in range(5):
            busy.get("/v2/user")
        token = busy.get("/v5/user/tokens/current").json()["token"]
    assert token["activeAt"] == token["createdAt"]


def test_paging_visits_every_token_once_newest_first(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:

        def create(i: int) -> str:
            response = api.post("/v3/user/tokens", json={"name": f"burst-{i}"})
            assert response.status_code == 200, response.text
            return str(response.json()["token"]["id"])

        with ThreadPoolExecutor(max_workers=45) as pool:
            created = set(pool.map(create, range(45)))

        seen: list[dict[str, Any]] = []
        params: dict[str, int] = {"limit": 7}
        pages = 0
        while True:
            page = api.get("/v6/user/tokens", params=params).json()
            pages += 1
            assert page["pagination"]["count"] == len(page["tokens"])
            if pages == 1:
                assert page["pagination"]["prev"] is None
            else:
                assert page["pagination"]["prev"] == page["tokens"][0]["createdAt"]
            seen.extend(page["tokens"])
            if page["pagination"]["next"] is None:
                break
            params = {"limit": 7, "until": page["pagination"]["next"]}

    ids = [str(token["id"]) for token in seen]
    assert len(ids) == len(set(ids)) == 46
    assert set(ids) == created | {alice.token_id}
    stamps = [token["createdAt"] for token in seen]
    assert stamps == sorted(stamps, reverse=True)
    assert pages == 7


def test_since_pages_back_towards_the_newest(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        for i in range(5):
            api.post("/v3/user/tokens", json={"name": f"p{i}"})
        everything = api.get("/v6/user/tokens").json()["tokens"]
        oldest_page = api.get(
            "/v6/user/tokens", params={"limit": 2, "until": everything[3]["createdAt"]}
        ).json()
        assert [t["id"] for t in oldest_page["tokens"]] == [t["id"] for t in everything[4:6]]
        newer = api.get(
            "/v6/user/tokens", params={"limit": 2, "since": oldest_page["pagination"]["prev"]}
        ).json()
        assert [t["id"] for t in newer["tokens"]] == [t["id"] for t in everything[2:4]]
        assert newer["pagination"]["next"] == everything[3]["createdAt"]
        newest = api.get(
            "/v6/user/tokens", params={"limit": 2, "since": newer["pagination"]["prev"]}
        ).json()
        assert [t["id"] for t in newest["tokens"]] == [t["id"] for t in everything[0:2]]
        assert newest["pagination"]["prev"] is None


def test_an_integral_json_float_is_an_integer_expiry(server: Server, alice: Account) -> None:
    expires = now_ms() + 86_400_000
    with server.client(alice.token) as api:
        response = api.post("/v3/user/tokens", json={"name": "f", "expiresAt": float(expires)})
    assert response.status_code == 200, response.text
    assert response.json()["token"]["expiresAt"] == expires


def test_rotation_swaps_the_secret_at_once(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        made = api.post("/v3/user/tokens", json={"name": "rotate-me"}).json()
    with server.client(made["bearerToken"]) as old:
        assert old.get("/v2/user").status_code == 200  # cached in the server now
        response = old.post("/v3/user/tokens/current/rotate")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"token", "bearerToken"}
        assert body["token"]["name"] == "rotate-me"
        assert body["token"]["scopes"][0]["type"] == "user"
        assert body["token"]["id"] != made["token"]["id"]
        rejected = old.get("/v2/user")
        assert rejected.status_code == 401
        assert rejected.json()["error"]["message"] == "The token has been revoked."
    with server.client(body["bearerToken"]) as new:
        assert new.get("/v5/user/tokens/current").json()["token"]["id"] == body["token"]["id"]
    with server.client(alice.token) as api:
        assert api.post(f"/v3/user/tokens/{made['token']['id']}/rotate").status_code == 404
        assert api.post("/v3/user/tokens/nonexistent/rotate").status_code == 404


def test_rotation_near_the_latest_expiry_clamps_it(server: Server, alice: Account) -> None:
    # The successor's lifetime would end after the year 9999: it ends at the latest
    # instant allowed instead of the rotation being refused.
    latest = MAX_TIMESTAMP_MS
    with server.client(alice.token) as api:
        made = api.post("/v3/user/tokens", json={"name": "far", "expiresAt": latest}).json()
        assert made["token"]["expiresAt"] == latest
        response = api.post(f"/v3/user/tokens/{made['token']['id']}/rotate")
        assert response.status_code == 200, response.text
        assert response.json()["token"]["expiresAt"] == latest
        again = api.post(f"/v3/user/tokens/{response.json()['token']['id']}/rotate")
        assert again.status_code == 200, again.text
        assert again.json()["token"]["expiresAt"] == latest


def test_snake_case_fields_are_unknown_fields(server: Server, alice: Account) -> None:
    # Found by schemathesis: "expires_at" used to be read as expiresAt, which the
    # document does not say; like any unknown field it is now ignored.
    with server.client(alice.token) as api:
        response = api.post("/v3/user/tokens", json={"name": "snake", "expires_at": -1})
        assert response.status_code == 200
        assert "expiresAt" not in response.json()["token"]
