"""POST /v1/secret-scanning/github: GitHub's partner protocol, signed with keys the test
makes, against a real server on both databases."""

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.api.github_signing import KEY_ID, findings, signed, write_keys
from tests.conftest import Account
from tests.support import Server
from tokend.bootstrap import Services
from tokend.domain.tokens import LEAKED_URL_MAX_LENGTH

PATH = "/v1/secret-scanning/github"


@pytest.fixture(scope="module")
def github_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def keys_file(
    tmp_path_factory: pytest.TempPathFactory, github_key: ec.EllipticCurvePrivateKey
) -> Path:
    path = tmp_path_factory.mktemp("scanning") / "github-keys.json"
    write_keys(path, {KEY_ID: github_key})
    return path


@pytest.fixture(scope="module")
def scanning_server(
    database_url: str, keys_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("scanning-server") / "tokend.log"
    env = {"TOKEND_SECRET_SCANNING_KEYS": str(keys_file)}
    with Server(database_url=database_url, log_path=log, env=env) as running:
        yield running


def new_secret(server: Server, owner: Account, name: str = "leaky") -> dict[str, object]:
    with server.client(owner.token) as api:
        made: dict[str, object] = api.post("/v3/user/tokens", json={"name": name}).json()
    return made


def test_a_signed_report_revokes_and_labels(
    scanning_server: Server,
    github_key: ec.EllipticCurvePrivateKey,
    alice: Account,
    services: Services,
) -> None:
    made = new_secret(scanning_server, alice)
    secret, token_id = str(made["bearerToken"]), made["token"]["id"]  # type: ignore[index]
    with scanning_server.client(secret) as leaky:
        assert leaky.get("/v2/user").status_code == 200  # cached by the server
    unknown = "tkd_" + "A" * 30 + secret[-6:]  # well formed only by luck: checksum fails
    body = findings(secret, unknown, "not-a-token")
    response = httpx.post(
        scanning_server.url + PATH, content=body, headers=signed(body, github_key)
    )
    assert response.status_code == 200
    assert response.json() == [
        {
            "token_hash": hashlib.sha256(s.encode()).hexdigest(),
            "token_type": "tokend_token",
            "label": label,
        }
        for s, label in (
            (secret, "true_positive"),
            (unknown, "false_positive"),
            ("not-a-token", "false_positive"),
        )
    ]
    assert secret not in response.text

    with scanning_server.client(secret) as leaky:
        rejected = leaky.get("/v2/user")
    assert rejected.status_code == 401
    assert "leaked" in rejected.json()["error"]["message"]
    with scanning_server.client(alice.token) as api:
        assert api.get(f"/v5/user/tokens/{token_id}").status_code == 404
        events = api.get("/v1/user/events").json()["events"]
    leaked = [e for e in events if e["type"] == "token.leaked" and e["tokenId"] == token_id]
    assert len(leaked) == 1
    assert leaked[0]["token"]["leakedUrl"] == "https://github.com/o/r/blob/main/.env"
    assert leaked[0]["token"]["leakedAt"] == leaked[0]["createdAt"]
    assert "actorTokenId" not in leaked[0]
    resource_server = services.admin.create_service(f"rs-{token_id.lower()[:12]}").issued.secret
    with scanning_server.client(resource_server) as rs:
        assert rs.post("/v1/introspect", data={"token": secret}).json() == {"active": False}

    # Reported again: no longer live, so a false positive, and no second event.
    again = httpx.post(scanning_server.url + PATH, content=findings(secret),
                       headers=signed(findings(secret), github_key))  # fmt: skip
    assert again.json()[0]["label"] == "false_positive"


def test_a_bad_signature_changes_nothing(
    scanning_server: Server, github_key: ec.EllipticCurvePrivateKey, alice: Account
) -> None:
    secret = str(new_secret(scanning_server, alice)["bearerToken"])
    body = findings(secret)
    stranger = ec.generate_private_key(ec.SECP256R1())
    good = signed(body, github_key)
    attempts: list[tuple[bytes, dict[str, str]]] = [
        (body, {"Content-Type": "application/json"}),  # unsigned
        (body, signed(body, stranger)),  # a key GitHub never published
        (body, signed(body, github_key, key_id="unknown-key")),
        (findings(secret, url="https://evil.example"), good),  # body changed after signing
        (body, {**good, "Github-Public-Key-Signature": "not base64!"}),
    ]
    for attempt, headers in attempts:
        response = httpx.post(scanning_server.url + PATH, content=attempt, headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["error"]["code"] == "invalid_signature"
    with scanning_server.client(secret) as api:
        assert api.get("/v2/user").status_code == 200


def test_signed_garbage_is_a_bad_request(
    scanning_server: Server, github_key: ec.EllipticCurvePrivateKey
) -> None:
    for body in (b"{not json", b'{"token": "x"}', b'[{"type": "t"}]'):
        response = httpx.post(scanning_server.url + PATH, content=body,
                              headers=signed(body, github_key))  # fmt: skip
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "bad_request"


def test_replaced_keys_are_used_without_a_restart(
    scanning_server: Server, keys_file: Path, github_key: ec.EllipticCurvePrivateKey
) -> None:
    rotated = ec.generate_private_key(ec.SECP256R1())
    original = keys_file.read_text()
    write_keys(keys_file, {KEY_ID: github_key, "test-key-2": rotated})
    try:
        body = findings("nothing-here")
        response = httpx.post(scanning_server.url + PATH, content=body,
                              headers=signed(body, rotated, key_id="test-key-2"))  # fmt: skip
        assert response.status_code == 200
    finally:
        keys_file.write_text(original)


def test_without_keys_reports_are_refused_as_unavailable(server: Server) -> None:
    body = findings("x")
    key = ec.generate_private_key(ec.SECP256R1())
    unsigned = {"Content-Type": "application/json"}
    half_signed = {**signed(body, key), "Github-Public-Key-Signature": ""}
    # Whatever the signature headers say: without keys nothing can be checked.
    for headers in (signed(body, key), unsigned, half_signed):
        response = httpx.post(server.url + PATH, content=body, headers=headers)
        assert response.status_code == 503, headers
        assert "secret-scanning keys" in response.json()["error"]["message"]


def test_each_finding_is_handled_on_its_own(
    scanning_server: Server, github_key: ec.EllipticCurvePrivateKey, alice: Account
) -> None:
    # Text PostgreSQL cannot store (NUL), a lone surrogate no database can encode, an
    # endless URL: each finding is still revoked, and none stops the ones after it.
    urls = [
        "https://github.com/o/r/blob/main/.env\u0000.txt",
        "https://github.com/o/r/\ud800",
        "https://github.com/o/r/" + "x" * 10_000,
        "https://github.com/o/r/blob/main/ok",
    ]
    made = [new_secret(scanning_server, alice, f"leaky-{n}") for n in range(len(urls))]
    reports = [
        {"token": m["bearerToken"], "type": "tokend_token", "url": url, "source": "content"}
        for m, url in zip(made, urls, strict=True)
    ]
    body = json.dumps(reports).encode()  # NUL and the surrogate as \u escapes
    response = httpx.post(scanning_server.url + PATH, content=body,
                          headers=signed(body, github_key))  # fmt: skip
    assert response.status_code == 200, response.text
    assert [label["label"] for label in response.json()] == ["true_positive"] * len(urls)
    with scanning_server.client(alice.token) as api:
        events = api.get("/v1/user/events", params={"limit": 100}).json()["events"]
    stored = {e["tokenId"]: e["token"]["leakedUrl"] for e in events if e["type"] == "token.leaked"}
    leaked_urls = [stored[m["token"]["id"]] for m in made]  # type: ignore[index]
    assert leaked_urls[0] == "https://github.com/o/r/blob/main/.env\ufffd.txt"
    assert leaked_urls[1] == "https://github.com/o/r/\ufffd"
    assert leaked_urls[2] == urls[2][:LEAKED_URL_MAX_LENGTH]
    assert leaked_urls[3] == urls[3]
    for m in made:
        with scanning_server.client(str(m["bearerToken"])) as leaky:
            assert leaky.get("/v2/user").status_code == 401
