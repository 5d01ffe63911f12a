"""GET /metrics: Prometheus text, no token, counts summed over workers."""

import contextlib
import os
import signal
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Account
from tests.support import Server, children_of, eventually
from tokend.bootstrap import Services
from tokend.metrics import sweep_stale_folders


def samples(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{server.url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_counts_from_every_worker_are_summed(
    database_url: str, alice: Account, tmp_path: Path
) -> None:
    node = Server(database_url=database_url, log_path=tmp_path / "m.log", workers=2)
    with node:
        with node.client(alice.token) as api:
            for i in range(6):
                api.post("/v3/user/tokens", json={"name": f"m{i}"})  # one connection: one worker
        for _ in range(10):
            # A fresh connection each time, so both workers see some of them.
            assert httpx.get(f"{node.url}/v2/user").status_code == 401
            bad = {"Authorization": "Bearer tkd_" + "x" * 36}
            assert httpx.get(f"{node.url}/v2/user", headers=bad).status_code == 401
        # Whichever worker answers the scrape, it reports all of them.
        for _ in range(4):
            counted = samples(node)
            created = (("type", "token.created"),)
            assert counted[("tokend_token_events_total", created)] == 6
            missing = (("reason", "missing"),)
            malformed = (("reason", "malformed"),)
            assert counted[("tokend_authentication_failures_total", missing)] == 10
            assert counted[("tokend_authentication_failures_total", malformed)] == 10


@pytest.fixture
def private_tmp(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A temporary folder of the test's own, and the environment that gives it to a server."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    return temporary, {"TMPDIR": str(temporary)}


def test_a_killed_servers_metrics_folder_is_removed_by_the_next(
    services: Services, database_url: str, tmp_path: Path, private_tmp: tuple[Path, dict[str, str]]
) -> None:
    temporary, env = private_tmp
    killed = Server(database_url=database_url, log_path=tmp_path / "k.log", workers=2, env=env)
    killed.start()
    assert killed.process is not None
    workers = children_of(killed.process.pid)
    left = list(temporary.glob("tokend-metrics-*"))
    assert len(left) == 1
    for pid in [killed.process.pid, *workers]:  # as an OOM killer or kill -9 would
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    killed.process.wait()
    assert left[0].exists()  # nobody was left to remove it
    # The next server on the machine sweeps it away (even with a single worker).
    with Server(database_url=database_url, log_path=tmp_path / "n.log", env=env):
        assert not left[0].exists()
    assert list(temporary.glob("tokend-metrics-*")) == []


def test_a_folder_in_use_is_never_swept(
    services: Services, database_url: str, tmp_path: Path, private_tmp: tuple[Path, dict[str, str]]
) -> None:
    # Held by the server and by each worker (lock files): a sweep by another server on
    # the machine leaves it, and it goes only once nobody holds it.
    temporary, env = private_tmp
    running = Server(database_url=database_url, log_path=tmp_path / "r.log", workers=2, env=env)
    with running:
        assert running.process is not None
        assert len(children_of(running.process.pid)) >= 2
        assert sweep_stale_folders(str(temporary)) == []
        assert len(list(temporary.glob("tokend-metrics-*"))) == 1
    assert eventually(
        lambda: (
            not list(temporary.glob("tokend-metrics-*"))
            or len(sweep_stale_folders(str(temporary))) == 1
        )
    )
    assert list(temporary.glob("tokend-metrics-*")) == []
