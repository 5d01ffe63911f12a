"""tokend_http_request_duration_seconds: every answer counted once, by route template
(never the path a client sent), method and status, summed over workers; a scanner's
paths do not add labels; no secret, token id or address in any of it."""

import random
import string
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.api.raw_http import raw_request
from tests.conftest import Account
from tests.support import Server, eventually

HISTOGRAM = "tokend_http_request_duration_seconds"
Labels = tuple[str, str, str]  # route, method, status


def scrape(server: Server) -> str:
    response = httpx.get(f"{server.url}/metrics")
    assert response.status_code == 200
    return response.text


def histogram(text: str) -> dict[str, dict[Labels, float]]:
    """The histogram's samples by suffix (count, sum, bucket), then labels (buckets:
    the +Inf one)."""
    found: dict[str, dict[Labels, float]] = {"count": {}, "sum": {}, "bucket": {}}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.name.startswith(HISTOGRAM + "_"):
                continue
            suffix = sample.name.removeprefix(HISTOGRAM + "_")
            labels = sample.labels
            if suffix == "bucket" and labels["le"] != "+Inf":
                continue
            found[suffix][(labels["route"], labels["method"], labels["status"])] = sample.value
    return found


def counts(server: Server) -> dict[Labels, float]:
    return histogram(scrape(server))["count"]


def random_id() -> str:
    return "".join(random.choices(string.ascii_letters + string.digits, k=24))


def test_requests_are_counted_by_route_template_and_status_over_workers(
    database_url: str, alice: Account, tmp_path: Path
) -> None:
    node = Server(database_url=database_url, log_path=tmp_path / "h.log", workers=2)
    with node:
        before = counts(node)
        unknown_ids = [random_id() for _ in range(5)]
        for token_id in unknown_ids:
            # A connection each: both workers answer some.
            headers = {"Authorization": f"Bearer {alice.token}"}
            answer = httpx.get(f"{node.url}/v5/user/tokens/{token_id}", headers=headers)
            assert answer.status_code == 404
        for _ in range(6):  # the first verifies, the others are the shortcut's cache hits
            headers = {"Authorization": f"Bearer {alice.token}"}
            assert httpx.get(f"{node.url}/v2/user", headers=headers).status_code == 200
        assert httpx.get(f"{node.url}/v2/user").status_code == 401
        assert httpx.get(f"{node.url}/login").status_code == 200  # a page
        # A method no route has: its own label, whatever it is.
        assert raw_request(node.url, b"PROPFIND", b"/v2/user").status_code == 405

        def delta(labels: Labels) -> float:
            return counts(node).get(labels, 0) - before.get(labels, 0)

        expected = {
            ("/v5/user/tokens/{tokenId}", "GET", "404"): 5,
            ("/v2/user", "GET", "200"): 6,
            ("/v2/user", "GET", "401"): 1,
            ("/login", "GET", "200"): 1,
            ("/v2/user", "other", "405"): 1,
        }
        # Each worker adds its counts at least once a second.
        assert eventually(lambda: all(delta(k) == v for k, v in expected.items())), {
            k: delta(k) for k in expected
        }
        text = scrape(node)
        sampled = histogram(text)
        for labels in expected:
            # +Inf bucket and count agree; the sum is a time, short but not zero.
            assert sampled["bucket"][labels] == sampled["count"][labels]
            assert 0 < sampled["sum"][labels] < 10 * sampled["count"][labels]
        for secret in (alice.token, alice.token_id, *unknown_ids, "127.0.0.1"):
            assert secret not in text


def test_a_scanner_does_not_grow_the_labels(
    database_url: str, alice: Account, tmp_path: Path
) -> None:
    node = Server(database_url=database_url, log_path=tmp_path / "s.log")
    with node, httpx.Client(base_url=node.url) as client:
        authorization = {"Authorization": f"Bearer {alice.token}"}
        # One of each kind first: the series the scan may add to.
        assert client.get("/nowhere").status_code == 404
        assert (
            client.get(f"/v5/user/tokens/{random_id()}", headers=authorization).status_code == 404
        )
        known = set(counts(node))
        assert ("unmatched", "GET", "404") in known
        scanned = []
        for _ in range(300):
            depth = random.randint(1, 4)
            path = "/" + "/".join(random_id()[: random.randint(1, 24)] for _ in range(depth))
            scanned.append(path)
            assert client.get(path).status_code == 404
            answer = client.get(f"/v5/user/tokens/{random_id()}", headers=authorization)
            assert answer.status_code == 404
        text = scrape(node)
        after = histogram(text)["count"]
        # The scrape itself is one more series, on its first scrape already known.
        assert set(after) <= known | {("/metrics", "GET", "200")}
        assert after[("unmatched", "GET", "404")] >= 300
        assert after[("/v5/user/tokens/{tokenId}", "GET", "404")] >= 300
        assert not any(path in text for path in scanned if len(path) > 6)


def test_a_stopping_worker_adds_its_last_counts(
    database_url: str, alice: Account, tmp_path: Path
) -> None:
    # An operator's own PROMETHEUS_MULTIPROC_DIR outlives the server: what the workers
    # wrote there is read after they stopped, less than a second after their requests.
    folder = tmp_path / "multiproc"
    folder.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(folder)}
    node = Server(database_url=database_url, log_path=tmp_path / "x.log", workers=2, env=env)
    with node:
        for _ in range(8):
            assert httpx.get(f"{node.url}/healthz").status_code == 200
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(folder))  # type: ignore[no-untyped-call]
    counted = histogram(generate_latest(registry).decode())["count"]
    # The start-up's readiness polls are there too.
    assert counted[("/readyz", "GET", "200")] >= 1
    assert counted[("/healthz", "GET", "200")] == 8
