"""A database that stops answering without a word: revocation must not go deaf, and
requests must not hang (issue 10, items 1 and 2). Real sockets throughout: node B
reaches PostgreSQL through a proxy that freezes, or PostgreSQL itself is stopped
with SIGSTOP (a server of the test's own)."""

import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.faults import FreezableProxy, private_postgres
from tests.support import Server, eventually, postgres_database
from tokend.bootstrap import bootstrap
from tokend.settings import Settings
from tokend.storage.migrate import upgrade

pytestmark = pytest.mark.postgres

CACHE_FOR_AN_HOUR = {"TOKEND_CACHE_TTL_S": "3600"}
ANSWER_WITHIN_S = 10.0  # the bound for a 503 from a hung database


@dataclass(frozen=True)
class Answer:
    sent: float  # monotonic
    received: float
    status: int


def ask(server: Server, path: str, token: str | None = None) -> Answer:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    sent = time.monotonic()
    try:
        status = httpx.get(server.url + path, headers=headers, timeout=30).status_code
    except httpx.TimeoutException:
        status = 0
    return Answer(sent, time.monotonic(), status)


def prepared_database(url: str) -> tuple[str, str]:
    """Migrates ``url`` and makes a user; returns (bootstrap secret, username)."""
    services = bootstrap(Settings(database_url=url))
    try:
        upgrade(services.engine)
        created = services.admin.create_user("frozen")
        return created.issued.secret, created.user.username
    finally:
        services.close()


@pytest.fixture
def database() -> Iterator[str]:
    with postgres_database() as url:
        yield url


def test_a_node_cut_off_silently_stops_answering_for_revoked_tokens(
    database: str, tmp_path: Path
) -> None:
    owner, _ = prepared_database(database)
    target = make_url(database)
    with FreezableProxy(target.port or 5432) as proxy:
        via_proxy = target.set(port=proxy.port).render_as_string(hide_password=False)
        node_a = Server(database_url=database, log_path=tmp_path / "a.log", env=CACHE_FOR_AN_HOUR)
        node_b = Server(database_url=via_proxy, log_path=tmp_path / "b.log", env=CACHE_FOR_AN_HOUR)
        with node_a, node_b:
            with node_a.client(owner) as a:
                made = a.post("/v3/user/tokens", json={"name": "to revoke"}).json()
                kept = a.post("/v3/user/tokens", json={"name": "kept"}).json()
            doomed = made["bearerToken"]
            for secret in (doomed, kept["bearerToken"], owner):
                for _ in range(2):  # cached on B: the second answer is a hit
                    assert ask(node_b, "/v2/user", secret).status == 200

            proxy.freeze()
            with node_a.client(owner) as a:
                assert a.delete(f"/v3/user/tokens/{made['token']['id']}").status_code == 200
            revoked_at = time.monotonic()

            # B is asked about the revoked token again and again, as clients would, from
            # several threads (each request may wait for the database).
            with ThreadPoolExecutor(max_workers=8) as pool:
                answers = list(pool.map(lambda delay: ask_later(node_b, delay, doomed), DELAYS))
                writes = [
                    pool.submit(ask_to_create, node_b, doomed),
                    pool.submit(ask, node_b, "/v6/user/tokens", kept["bearerToken"]),
                    pool.submit(ask, node_b, "/readyz"),
                ]
                created, listed, ready = (future.result() for future in writes)

            late_200 = [a for a in answers if a.status == 200 and a.received > revoked_at + 1.0]
            assert not late_200, f"B answered 200 after the revocation: {late_200}"
            assert {a.status for a in answers} <= {200, 401, 503}
            for answer in (*answers, created, listed, ready):
                assert answer.received - answer.sent < ANSWER_WITHIN_S, answer
            assert created.status in (401, 503)  # never a token minted by a revoked one
            assert listed.status == 503
            assert ready.status == 503

            proxy.thaw()
            # B recovers on its own: the live token works, the revoked one never again.
            assert eventually(
                lambda: ask(node_b, "/v6/user/tokens", kept["bearerToken"]).status == 200,
                seconds=20,
            )
            assert ask(node_b, "/v2/user", doomed).status == 401
            with node_a.client(owner) as a:
                names = [t["name"] for t in node_a_tokens(a)]
            assert "minted while frozen" not in names


DELAYS = [i * 0.1 for i in range(25)]  # 2.5 s of questions, starting at the revocation


def ask_later(server: Server, delay: float, secret: str) -> Answer:
    time.sleep(delay)
    return ask(server, "/v2/user", secret)


def ask_to_create(server: Server, secret: str) -> Answer:
    sent = time.monotonic()
    response = httpx.post(
        server.url + "/v3/user/tokens",
        headers={"Authorization": f"Bearer {secret}"},
        json={"name": "minted while frozen"},
        timeout=30,
    )
    return Answer(sent, time.monotonic(), response.status_code)


def node_a_tokens(api: httpx.Client) -> list[dict[str, object]]:
    tokens: list[dict[str, object]] = api.get("/v6/user/tokens?limit=100").json()["tokens"]
    return tokens


def test_a_stopped_database_gets_503_within_seconds_then_recovers(tmp_path: Path) -> None:
    with private_postgres() as postgres:
        owner, _ = prepared_database(postgres.url)
        node = Server(database_url=postgres.url, log_path=tmp_path / "node.log")
        with node:
            assert ask(node, "/v6/user/tokens", owner).status == 200
            postgres.signal(signal.SIGSTOP)
            try:
                with ThreadPoolExecutor(max_workers=6) as pool:
                    futures = [
                        pool.submit(ask, node, "/v6/user/tokens", owner),
                        pool.submit(ask, node, "/v5/user/tokens/" + "a" * 24, owner),  # a look-up
                        pool.submit(ask, node, "/readyz"),
                        pool.submit(ask_to_create, node, owner),
                    ]
                    answers = [future.result() for future in futures]
                # Asked again once the first ones failed: the pool must not be stuck.
                again = ask(node, "/v6/user/tokens", owner)
            finally:
                postgres.signal(signal.SIGCONT)
            for answer in (*answers, again):
                assert answer.status == 503, answer
                assert answer.received - answer.sent < ANSWER_WITHIN_S, answer
            assert ask(node, "/healthz").status == 200
            assert eventually(lambda: ask(node, "/v6/user/tokens", owner).status == 200, 20)
            assert ask(node, "/readyz").status == 200
