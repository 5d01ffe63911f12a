"""Several `tokend serve` processes on one database: PostgreSQL across machines,
SQLite across processes of one machine. Each caches verified tokens, so these tests
prove the revocation feed: the caches are told to live for an hour, and only the
feed can make a node drop a token it has cached.
"""

import time
from pathlib import Path

import httpx

from tests.conftest import Account
from tests.support import Server

CACHE_FOR_AN_HOUR = {"TOKEND_CACHE_TTL_S": "3600"}


def rejected_within(node: Server, secret: str, seconds: float) -> bool:
    """Whether the node answers 401 to the secret at once or within ``seconds``."""
    with node.client(secret) as api:
        deadline = time.monotonic() + seconds
        while True:
            response = api.get("/v2/user")
            if response.status_code == 401:
                assert response.json()["error"]["code"] == "invalid_token"
                return True
            assert response.status_code == 200
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


def cached_by(node: Server, secret: str) -> None:
    with node.client(secret) as api:
        for _ in range(3):
            assert api.get("/v2/user").status_code == 200


def test_revoked_on_one_node_is_rejected_by_the_other(
    database_url: str, alice: Account, tmp_path: Path
) -> None:
    node_a = Server(database_url=database_url, log_path=tmp_path / "a.log", env=CACHE_FOR_AN_HOUR)
    node_b = Server(database_url=database_url, log_path=tmp_path / "b.log", env=CACHE_FOR_AN_HOUR)
    with node_a, node_b:
        for round_ in range(3):
            with node_a.client(alice.token) as a:
                made = a.post("/v3/user/tokens", json={"name": f"shared {round_}"}).json()
            secret = made["bearerToken"]
            cached_by(node_a, secret)
            cached_by(node_b, secret)

            with node_a.client(alice.token) as a:
                assert a.delete(f"/v3/user/tokens/{made['token']['id']}").status_code == 200

            assert rejected_within(node_a, secret, 0)  # the revoking node: at once
            assert rejected_within(node_b, secret, 5.0)  # the other: through the feed


def test_revoked_by_current_on_the_other_node(
    database_url: str, alice: Account, tmp_path: Path
) -> None:
    node_a = Server(database_url=database_url, log_path=tmp_path / "a.log", env=CACHE_FOR_AN_HOUR)
    node_b = Server(database_url=database_url, log_path=tmp_path / "b.log", env=CACHE_FOR_AN_HOUR)
    with node_a, node_b:
        with node_a.client(alice.token) as a:
            secret = a.post("/v3/user/tokens", json={"name": "self"}).json()["bearerToken"]
        cached_by(node_b, secret)
        with node_a.client(secret) as a:
            assert a.delete("/v3/user/tokens/current").status_code == 200
        assert rejected_within(node_b, secret, 5.0)


def test_two_workers_share_the_database(database_url: str, alice: Account, tmp_path: Path) -> None:
    node = Server(database_url=database_url, log_path=tmp_path / "w.log", workers=2)
    with node, node.client(alice.token) as api:
        made = [api.post("/v3/user/tokens", json={"name": f"w{i}"}) for i in range(10)]
        assert all(response.status_code == 200 for response in made)
        listed = api.get("/v6/user/tokens", params={"limit": 100}).json()["tokens"]
    assert {r.json()["token"]["id"] for r in made} <= {t["id"] for t in listed}


def test_revoked_in_one_worker_is_rejected_by_every_worker(
    database_url: str, alice: Account, tmp_path: Path
) -> None:
    # Each new connection may land on either worker; many connections reach both.
    node = Server(database_url=database_url, log_path=tmp_path / "w.log", workers=2,
                  env=CACHE_FOR_AN_HOUR)  # fmt: skip
    with node:
        with node.client(alice.token) as api:
            made = api.post("/v3/user/tokens", json={"name": "workers"}).json()
        secret = made["bearerToken"]
        headers = {"Authorization": f"Bearer {secret}"}
        for _ in range(20):  # fresh connections, so both workers cache it
            assert httpx.get(f"{node.url}/v2/user", headers=headers).status_code == 200
        with node.client(alice.token) as api:
            assert api.delete(f"/v3/user/tokens/{made['token']['id']}").status_code == 200
        time.sleep(1.0)  # the promise: rejected everywhere within one second
        answers = {httpx.get(f"{node.url}/v2/user", headers=headers).status_code for _ in range(20)}
        assert answers == {401}
