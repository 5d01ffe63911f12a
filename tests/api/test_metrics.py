"""GET /metrics: Prometheus text, no token, counts summed over workers."""

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Account
from tests.support import Server


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
