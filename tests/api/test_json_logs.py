"""TOKEND_LOG_FORMAT=json on a real `tokend serve`: every line it writes, from start to
stop, is one JSON object; a request's lines carry the id its answer gives in
X-Request-Id; an incoming id is kept only from a trusted proxy and only when sane;
and no secret or token id reaches any line, tracebacks included."""

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.api.test_logging import leaked_pieces
from tests.conftest import Account
from tests.support import Server, database
from tokend.bootstrap import bootstrap
from tokend.settings import Settings
from tokend.storage.migrate import upgrade

PROXY = "127.0.0.2"  # a loopback address of its own: the only trusted one
EXPLODING_NAME = "explode"


@pytest.fixture
def own_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own (it breaks one of its tables), with tokend's schema."""
    with database(backend, tmp_path) as url:
        services = bootstrap(Settings(database_url=url))
        try:
            upgrade(services.engine)
        finally:
            services.close()
        yield url


def account(url: str) -> Account:
    services = bootstrap(Settings(database_url=url))
    try:
        made = services.admin.create_user("json-logs")
    finally:
        services.close()
    return Account("json-logs", made.user.id, made.issued.secret, made.issued.token.id)


def fail_token_creation(url: str) -> None:
    """Creating a token named `EXPLODING_NAME` fails in the database with an error
    that is no outage (so tokend answers 500 and logs the traceback)."""
    if url.startswith("sqlite:"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.execute(
                f"CREATE TRIGGER explode BEFORE INSERT ON tokens WHEN NEW.name = '{EXPLODING_NAME}'"
                " BEGIN SELECT zeroblob(2000000000); END"  # "string or blob too big"
            )
        return
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(
            "CREATE FUNCTION explode() RETURNS trigger AS $$ BEGIN"
            f" IF NEW.name = '{EXPLODING_NAME}' THEN RAISE EXCEPTION 'exploded on purpose';"
            " END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        db.execute(
            "CREATE TRIGGER explode BEFORE INSERT ON tokens FOR EACH ROW EXECUTE FUNCTION explode()"
        )


def from_proxy() -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=PROXY), timeout=30)


def parsed(log: Path) -> list[dict[str, Any]]:
    lines = log.read_text().splitlines()
    assert lines
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line!r}")
        assert isinstance(record, dict), line
        assert {"time", "level", "logger", "message", "pid"} <= record.keys(), line
        records.append(record)
    return records


def test_every_line_is_json_and_carries_its_request_id(own_database: str, tmp_path: Path) -> None:
    alice = account(own_database)
    fail_token_creation(own_database)
    log = tmp_path / "json.log"
    env = {"TOKEND_LOG_FORMAT": "json", "TOKEND_TRUSTED_PROXIES": PROXY}
    node = Server(database_url=own_database, log_path=log, workers=2, env=env)
    answers: list[httpx.Response] = []
    with node:
        with node.client(alice.token) as api:
            for _ in range(3):  # verified once, then answered by the cached-token shortcut
                answers.append(api.get("/v2/user"))
            made = api.post("/v3/user/tokens", json={"name": "in-a-url"})
            assert made.status_code == 200
            pasted = made.json()["bearerToken"]
            pasted_id = made.json()["token"]["id"]
            answers.append(api.get(f"/v5/user/tokens/{pasted}"))  # a secret in the URL: 404
            answers.append(api.get("/nowhere", params={"token": alice.token}))
            failed = api.post("/v3/user/tokens", json={"name": EXPLODING_NAME})
        bad = httpx.get(f"{node.url}/v2/user", headers={"Authorization": "Bearer tkd_" + "x" * 36})
        page = httpx.get(f"{node.url}/login")
        answers += [bad, page]
        assert [a.status_code for a in answers] == [200, 200, 200, 404, 404, 401, 200]
        assert failed.status_code == 500
        # The id the 500 names is the one in its header, and in the log (below).
        failed_id = failed.headers["x-request-id"]
        assert f"Request id: {failed_id}." in failed.json()["error"]["message"]

        # Incoming ids: kept from the trusted proxy (even when it forwards another
        # client's address), refused from anyone else, and refused when not sane.
        with from_proxy() as proxy:
            kept = {
                "edge-1.a:b": {},
                "0123456789abcdef0123456789abcdef": {"X-Forwarded-For": "203.0.113.9"},
                "550e8400-e29b-41d4-a716-446655440000": {},
            }
            for incoming, extra in kept.items():
                answer = proxy.get(
                    f"{node.url}/healthz", headers={"X-Request-Id": incoming, **extra}
                )
                assert answer.headers["x-request-id"] == incoming
                answers.append(answer)
            refused = ["a" * 129, "a b", "<script>", alice.token, alice.token_id, pasted[4:]]
            for incoming in refused:
                answer = proxy.get(f"{node.url}/healthz", headers={"X-Request-Id": incoming})
                assert answer.headers["x-request-id"] != incoming
                answers.append(answer)
        for spoofed in ({}, {"X-Forwarded-For": PROXY}):
            headers = {"X-Request-Id": "from-anyone", **spoofed}
            answer = httpx.get(f"{node.url}/healthz", headers=headers)
            assert answer.headers["x-request-id"] != "from-anyone"
            answers.append(answer)
    records = parsed(log)  # after the stop: its lines too

    ids = [answer.headers["x-request-id"] for answer in answers] + [failed_id]
    assert len(set(ids)) == len(ids)
    for answer in [*answers, failed]:
        rid = answer.headers["x-request-id"]
        access = [
            r for r in records if r["logger"] == "uvicorn.access" and r.get("request_id") == rid
        ]
        assert len(access) == 1, (rid, answer.request.url)
        assert access[0]["status"] == answer.status_code
        assert access[0]["method"] == answer.request.method
    forwarded = next(
        r for r in records if r.get("request_id") == "0123456789abcdef0123456789abcdef"
    )
    assert forwarded["client"].startswith("203.0.113.9")

    # The 500's traceback: one field of one line, under the request's id.
    errors = [r for r in records if r.get("request_id") == failed_id and r["level"] == "error"]
    assert len(errors) == 1
    assert errors[0]["exception"].startswith("Traceback (most recent call last)")
    assert ("blob too big" if own_database.startswith("sqlite") else "exploded on purpose") in (
        errors[0]["exception"]
    )
    # Start-up (the banner, the supervisor and both workers) and shutdown are there too.
    assert any(r["logger"] == "tokend.serve" and "worker(s)" in r["message"] for r in records)
    assert len({r["pid"] for r in records}) == 3
    assert any("Finished server process" in r["message"] for r in records)

    text = log.read_text()
    for secret in (alice.token, pasted):
        assert leaked_pieces(secret, text) == []
    for token_id in (alice.token_id, pasted_id):
        assert token_id not in text
    assert '"path": "/v5/user/tokens/[REDACTED]"' in text
