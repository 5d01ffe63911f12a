"""activeAt moves forward on use, written at most once per token per window."""

import time
from pathlib import Path

from tests.conftest import Account
from tests.support import Server


def active_at(node: Server, secret: str) -> int:
    with node.client(secret) as api:
        return int(api.get("/v5/user/tokens/current").json()["token"]["activeAt"])


def test_active_at_is_coalesced_per_window(
    database_url: str, alice: Account, tmp_path: Path
) -> None:
    env = {"TOKEND_ACTIVE_AT_RESOLUTION_S": "1"}
    node = Server(database_url=database_url, log_path=tmp_path / "a.log", env=env)
    with node, node.client(alice.token) as api:
        made = api.post("/v3/user/tokens", json={"name": "active"}).json()
        secret, created = made["bearerToken"], made["token"]["createdAt"]

        time.sleep(1.1)
        first = active_at(node, secret)  # this request is the first use after a window
        assert first > created
        # Within the window (well inside its 1 s): uses write nothing new.
        within = time.monotonic() + 0.5
        uses = 0
        while time.monotonic() < within:
            assert active_at(node, secret) == first
            uses += 1
        assert uses >= 3

        time.sleep(1.1)
        assert active_at(node, secret) > first


def test_pending_active_at_is_written_on_sigterm(
    database_url: str, alice: Account, tmp_path: Path
) -> None:
    # Flushes an hour apart: only the graceful shutdown can write this use.
    env = {"TOKEND_ACTIVE_AT_RESOLUTION_S": "1", "TOKEND_ACTIVE_AT_FLUSH_S": "3600"}
    node = Server(database_url=database_url, log_path=tmp_path / "a.log", env=env, workers=2)
    with node:
        with node.client(alice.token) as api:
            made = api.post("/v3/user/tokens", json={"name": "last use"}).json()
        time.sleep(1.1)
        used = active_at(node, made["bearerToken"])  # noted in memory, not yet written
        assert used > made["token"]["createdAt"]
        node.stop()  # SIGTERM to uvicorn, which passes it on to its workers
        assert node.process is not None
        assert node.process.returncode == 0

    again = Server(database_url=database_url, log_path=tmp_path / "b.log")
    with again, again.client(alice.token) as api:
        listed = api.get("/v6/user/tokens", params={"limit": 100}).json()["tokens"]
    stored = next(token for token in listed if token["id"] == made["token"]["id"])
    assert stored["activeAt"] == used
