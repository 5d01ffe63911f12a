"""Secrets stay secret: after a full scenario, no issued secret, nor any 16-character
piece of one, appears in the server's log, in an error body, in the audit log or in
the metrics. (Only create and rotate answers carry a secret, once, by design.)"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.api.github_signing import KEY_ID, findings, signed, write_keys
from tests.conftest import Account
from tests.support import Server
from tokend.bootstrap import Services

PIECE = 16


def pieces(secret: str) -> set[str]:
    return {secret[i : i + PIECE] for i in range(len(secret) - PIECE + 1)}


class Recorder:
    """Every answer the scenario gets, except the ones that hand out a secret."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.seen: dict[str, str] = {}  # request -> the answer's headers and body
        self.issued: list[str] = []

    def send(
        self,
        method: str,
        path: str,
        token: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = self.http.request(method, path, headers=headers, **kwargs)
        if response.status_code == 200 and "bearerToken" in response.text:
            self.issued.append(response.json()["bearerToken"])
        else:
            request = f"#{len(self.seen)} {method} (answered {response.status_code})"
            self.seen[request] = f"{response.headers} {response.text}"
        return response

    def create(self, token: str, name: str, **body: object) -> tuple[str, str]:
        made = self.send("POST", "/v3/user/tokens", token, json={"name": name, **body}).json()
        return made["bearerToken"], made["token"]["id"]


@pytest.fixture
def scanned_server(
    database_url: str, tmp_path: Path
) -> Iterator[tuple[Server, ec.EllipticCurvePrivateKey]]:
    key = ec.generate_private_key(ec.SECP256R1())
    keys = tmp_path / "keys.json"
    write_keys(keys, {KEY_ID: key})
    env = {"TOKEND_SECRET_SCANNING_KEYS": str(keys), "TOKEND_LOG_LEVEL": "debug"}
    with Server(database_url=database_url, log_path=tmp_path / "tokend.log", env=env) as node:
        yield node, key


def test_no_secret_reaches_logs_errors_events_or_metrics(
    scanned_server: tuple[Server, ec.EllipticCurvePrivateKey],
    services: Services,
    alice: Account,
) -> None:
    node, github_key = scanned_server
    run = Recorder(node.url)
    service_token = services.admin.create_service(f"rs-{alice.user_id[:8].lower()}").issued.secret
    run.issued += [alice.token, service_token]

    first, first_id = run.create(alice.token, "first")
    doomed, doomed_id = run.create(alice.token, "doomed", expiresAt=4_102_444_800_000)
    leaky, _ = run.create(alice.token, "leaky")
    for token in (first, doomed, leaky):
        run.send("GET", "/v2/user", token)
        run.send("GET", "/v5/user/tokens/current", token)
    run.send("GET", "/v6/user/tokens", alice.token)
    run.send("GET", f"/v5/user/tokens/{first_id}", alice.token)

    rotated = run.send("POST", "/v3/user/tokens/current/rotate", first).json()["bearerToken"]
    run.send("GET", "/v2/user", first)  # rotated away: 401
    run.send("GET", "/v2/user", rotated)
    run.send("DELETE", f"/v3/user/tokens/{doomed_id}", alice.token)
    run.send("GET", "/v2/user", doomed)  # revoked: 401

    for token in (rotated, doomed, "garbage"):
        run.send("POST", "/v1/introspect", service_token, data={"token": token})
    run.send("POST", "/v1/introspect", alice.token, data={"token": rotated})  # 403

    report = findings(leaky)
    forged = {**signed(report, github_key), "Github-Public-Key-Signature": "AAAA"}
    run.send("POST", "/v1/secret-scanning/github", content=report, headers=forged)  # 401
    run.send("POST", "/v1/secret-scanning/github", content=report,
             headers=signed(report, github_key))  # fmt: skip
    run.send("GET", "/v2/user", leaky)  # leaked: 401

    # A secret pasted where it does not belong, as people do.
    json_body = {"Content-Type": "application/json"}
    for secret in (rotated, leaky, doomed):
        changed = secret[:-1] + ("A" if secret[-1] != "A" else "B")  # checksum breaks
        run.send("GET", f"/v5/user/tokens/{secret}", alice.token)
        run.send("DELETE", f"/v3/user/tokens/{secret}", alice.token)
        run.send("POST", f"/v3/user/tokens/{secret}/rotate", alice.token)
        run.send("GET", "/v6/user/tokens", alice.token, params={"until": secret, "x": secret})
        run.send("POST", "/v3/user/tokens", alice.token, params={"teamId": secret},
                 json={"name": "x"})  # fmt: skip
        run.send("POST", "/v3/user/tokens", alice.token, json={"name": "x", "expiresAt": secret})
        run.send("POST", "/v3/user/tokens", alice.token, content="{" + secret, headers=json_body)
        run.send("GET", "/v2/user", headers={"Authorization": f"Basic {secret}"})
        run.send("GET", "/v2/user", headers={"Authorization": f"Bearer {secret} {secret}"})
        run.send("GET", "/v2/user", changed)
        run.send("GET", f"/nowhere/{secret}", secret)
        run.send("PUT", "/v2/user", secret)
    events = run.send("GET", "/v1/user/events", alice.token, params={"limit": 100}).json()
    metrics = run.send("GET", "/metrics").text
    node.stop()  # the log is complete once the server has exited

    log = node.log_path.read_text()
    assert len(run.issued) == 6  # alice's, the service's, three created, one rotated
    haystacks = {"server log": log, **run.seen}
    for secret in run.issued:
        for piece in pieces(secret):
            for where, text in haystacks.items():
                assert piece not in text, f"a piece of an issued secret is in: {where}"
    # The scenario did reach what was scanned.
    assert "[REDACTED]" in log
    assert {event["type"] for event in events["events"]} >= {
        "token.created", "token.rotated", "token.revoked", "token.leaked"
    }  # fmt: skip
    assert "tokend_authentication_failures_total" in metrics
