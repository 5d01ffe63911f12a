"""Lifecycle policy through the HTTP API of real `tokend serve` processes, with short
durations: maximum lifetime, required expiry, inactivity expiry, and rotation with
overlap across two nodes on one database (SQLite and PostgreSQL)."""

import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Account
from tests.support import Server

HOUR = 3_600_000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def test_maximum_lifetime_bounds_create_and_rotate(
    database_url: str, make_user: Callable[..., Account], tmp_path: Path
) -> None:
    node = Server(
        database_url=database_url,
        log_path=tmp_path / "a.log",
        env={"TOKEND_MAX_TOKEN_LIFETIME": "1h"},
    )
    alice = make_user("alice")  # her first token predates nothing: it never expires
    with node, node.client(alice.token) as api:
        refused = api.post(
            "/v3/user/tokens", json={"name": "long", "expiresAt": now_ms() + 2 * HOUR}
        )
        assert refused.status_code == 400
        assert "maximum token lifetime of 1 hour" in refused.json()["error"]["message"]

        before = now_ms()
        made = api.post("/v3/user/tokens", json={"name": "default"}).json()["token"]
        assert before + HOUR <= made["expiresAt"] <= now_ms() + HOUR
        assert made["scopes"][0]["expiresAt"] == made["expiresAt"]

        # An existing token without expiry is not shortened; its successor is capped.
        current = api.get("/v5/user/tokens/current").json()["token"]
        assert "expiresAt" not in current
        before = now_ms()
        rotated = api.post(f"/v3/user/tokens/{alice.token_id}/rotate")
        assert rotated.status_code == 200
        assert before + HOUR <= rotated.json()["token"]["expiresAt"] <= now_ms() + HOUR


def test_required_expiry(
    database_url: str, make_user: Callable[..., Account], tmp_path: Path
) -> None:
    node = Server(
        database_url=database_url,
        log_path=tmp_path / "a.log",
        env={"TOKEND_REQUIRE_EXPIRY": "true"},
    )
    alice = make_user("alice")
    with node, node.client(alice.token) as api:
        refused = api.post("/v3/user/tokens", json={"name": "forever"})
        assert refused.status_code == 400
        assert "expiresAt is required" in refused.json()["error"]["message"]
        dated = api.post("/v3/user/tokens", json={"name": "dated", "expiresAt": now_ms() + HOUR})
        assert dated.status_code == 200


def test_an_unused_token_stops_working_and_a_used_one_lives(
    database_url: str, make_user: Callable[..., Account], tmp_path: Path
) -> None:
    env = {"TOKEND_INACTIVITY_EXPIRY": "3s", "TOKEND_ACTIVE_AT_RESOLUTION_S": "1"}
    node = Server(database_url=database_url, log_path=tmp_path / "a.log", env=env)
    with node:
        alice = make_user("alice")  # made now, so still within its 3 s
        with node.client(alice.token) as api:
            used = api.post("/v3/user/tokens", json={"name": "used"}).json()
            idle = api.post("/v3/user/tokens", json={"name": "idle"}).json()
        assert used["token"]["inactivityExpiresAt"] == used["token"]["activeAt"] + 3000
        with node.client(idle["bearerToken"]) as api:
            assert api.get("/v2/user").status_code == 200  # cached here, with its deadline
        with node.client(used["bearerToken"]) as api:
            deadline = time.monotonic() + 4.5
            while time.monotonic() < deadline:
                assert api.get("/v2/user").status_code == 200
                time.sleep(0.4)
            listed = api.get("/v6/user/tokens").json()["tokens"]
        with node.client(idle["bearerToken"]) as api:
            refused = api.get("/v2/user")
        assert refused.status_code == 401
        assert refused.json()["error"] == {
            "code": "invalid_token",
            "message": "The token has expired after 3 seconds without use.",
        }
        # Listed as expired by disuse: its deadline has passed, the used one's has not.
        by_name = {token["name"]: token for token in listed}
        assert by_name["idle"]["inactivityExpiresAt"] <= now_ms()
        assert "expiresAt" not in by_name["idle"]
        assert by_name["used"]["inactivityExpiresAt"] > now_ms()
        with node.client() as api:
            metrics = api.get("/metrics").text
        assert 'tokend_authentication_failures_total{reason="inactive"}' in metrics


def test_rotation_with_overlap_ends_the_old_token_on_every_node(
    database_url: str, make_user: Callable[..., Account], tmp_path: Path
) -> None:
    first = Server(database_url=database_url, log_path=tmp_path / "a.log")
    second = Server(database_url=database_url, log_path=tmp_path / "b.log")
    alice = make_user("alice")
    with first, second:
        with first.client(alice.token) as api:
            old = api.post("/v3/user/tokens", json={"name": "deploy"}).json()
        with second.client(old["bearerToken"]) as api:
            assert api.get("/v2/user").status_code == 200  # node B caches it: no expiry

        with first.client(alice.token) as api:
            for bad in (0, -5, 24 * HOUR + 1, "10m"):
                answer = api.post(f"/v3/user/tokens/{old['token']['id']}/rotate",
                                  json={"overlapMs": bad})  # fmt: skip
                assert answer.status_code == 400, bad
            started = now_ms()
            rotated = api.post(
                f"/v3/user/tokens/{old['token']['id']}/rotate", json={"overlapMs": 2000}
            )
            assert rotated.status_code == 200
            new = rotated.json()
            assert "expiresAt" not in new["token"]  # the same lifetime as before: none
            shortened = api.get(f"/v5/user/tokens/{old['token']['id']}").json()["token"]
            assert started + 2000 <= shortened["expiresAt"] <= now_ms() + 2000
            events = api.get("/v1/user/events", params={"limit": 5}).json()["events"]
            snapshot = next(e for e in events if e["type"] == "token.rotated")["token"]
            assert snapshot["expiresAt"] == shortened["expiresAt"]

        for node in (first, second):
            with node.client(old["bearerToken"]) as api:
                assert api.get("/v2/user").status_code == 200  # within the overlap
            with node.client(new["bearerToken"]) as api:
                assert api.get("/v2/user").status_code == 200
        time.sleep(max(0.0, (shortened["expiresAt"] - now_ms()) / 1000) + 0.05)
        for node in (first, second):
            with node.client(old["bearerToken"]) as api:
                refused = api.get("/v2/user")
            assert refused.status_code == 401
            assert refused.json()["error"]["message"] == "The token has expired."
            with node.client(new["bearerToken"]) as api:
                assert api.get("/v2/user").status_code == 200
