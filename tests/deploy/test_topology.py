"""deploy/compose.yaml's topology with real processes: two `tokend serve` nodes on one
PostgreSQL and one Redis, behind nginx running deploy/nginx/tokend.conf (only its
addresses substituted), in front of an upstream that echoes what it receives."""

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.api.assertions import assert_error
from tests.deploy.proxy import EchoUpstream, Nginx, require_nginx
from tests.support import REDIS_URL, Server, postgres_database, redis_prefix

pytestmark = pytest.mark.postgres


@dataclass
class Topology:
    node_a: Server
    node_b: Server
    nginx: Nginx
    echo: EchoUpstream
    token: str  # a live token of the user the topology was set up with

    def through(self, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.get(f"{self.nginx.url}/orders", headers=headers, timeout=10)


def tokend_cli(*args: str, env: dict[str, str], cwd: Path) -> str:
    # The CLI an operator (or compose.yaml's migrate service) runs.
    finished = subprocess.run(
        [sys.executable, "-m", "tokend", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


@contextlib.contextmanager
def built(tmp_path: Path) -> Iterator[Topology]:
    require_nginx()
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(postgres_database())
        # The settings both nodes share, as compose.yaml gives them.
        shared = {
            "TOKEND_DATABASE_URL": database_url,
            "TOKEND_REDIS_URL": REDIS_URL,
            "TOKEND_REDIS_PREFIX": stack.enter_context(redis_prefix()),
            "TOKEND_TRUSTED_PROXIES": "127.0.0.1",
            # The revocation polls below are failures from one address.
            "TOKEND_RATE_LIMIT_FAILURES": "0",
        }
        env = {**{k: v for k, v in os.environ.items()
                  if not k.startswith("TOKEND_")}, **shared}  # fmt: skip
        tokend_cli("db", "upgrade", env=env, cwd=tmp_path)
        created = tokend_cli("admin", "create-user", "ada", "--format", "json",
                             env=env, cwd=tmp_path)  # fmt: skip
        token = json.loads(created)["bearerToken"]
        nodes = [
            stack.enter_context(
                Server(database_url=database_url, log_path=tmp_path / f"{name}.log", env=shared)
            )
            for name in ("node-a", "node-b")
        ]
        echo = stack.enter_context(EchoUpstream())
        nginx = stack.enter_context(
            Nginx(tmp_path / "nginx", [node.url for node in nodes], echo.url)
        )
        yield Topology(nodes[0], nodes[1], nginx, echo, token)


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    """Shared by the tests that leave both nodes running."""
    with built(tmp_path_factory.mktemp("topology")) as running:
        yield running


@pytest.fixture
def own_topology(tmp_path: Path) -> Iterator[Topology]:
    with built(tmp_path) as running:
        yield running


def test_a_token_revoked_on_node_a_is_refused_through_nginx_within_one_second(
    topology: Topology,
) -> None:
    with topology.node_a.client(topology.token) as api:
        token = api.post("/v3/user/tokens", json={"name": "doomed"}).json()["bearerToken"]
    # Both nodes answer through nginx (round robin) and now hold the token in their caches.
    for _ in range(10):
        assert topology.through(token).status_code == 200
    with topology.node_a.client(token) as api:
        assert api.delete("/v3/user/tokens/current").status_code == 200
    revoked_at = time.monotonic()
    while (answer := topology.through(token)).status_code == 200:
        assert time.monotonic() - revoked_at < 1.0, "still let through a second later"
    assert_error(answer, 401, "invalid_token")
    # Whichever node nginx picks from now on.
    before = len(topology.echo.seen)
    for _ in range(10):
        assert_error(topology.through(token), 401, "invalid_token")
    assert len(topology.echo.seen) == before
    assert topology.through().status_code == 200  # the user's other token still works


def test_both_nodes_answer_checks_through_nginx(topology: Topology) -> None:
    def checks(node: Server) -> int:
        # Each node's own count of answered requests, read from its log of requests.
        return node.log_path.read_text().count("/v1/auth/check")

    before = checks(topology.node_a), checks(topology.node_b)
    for _ in range(20):
        assert topology.through().status_code == 200
    after = checks(topology.node_a), checks(topology.node_b)
    assert after[0] > before[0], (before, after)
    assert after[1] > before[1], (before, after)


def test_one_node_down_the_other_answers_none_up_nothing_passes(
    own_topology: Topology,
) -> None:
    topology = own_topology
    topology.node_b.stop()
    for _ in range(6):
        assert topology.through().status_code == 200
    topology.node_a.stop()
    before = len(topology.echo.seen)
    for token in (topology.token, None):
        answer = (topology.through(token) if token else
                  httpx.get(f"{topology.nginx.url}/orders", timeout=10))  # fmt: skip
        # Fail closed: a check that could not be asked never lets a request through.
        assert answer.status_code == 502, answer.text
        assert not [name for name in answer.headers if name.lower().startswith("x-tokend-")]
    assert len(topology.echo.seen) == before
