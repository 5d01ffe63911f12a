"""Secrets never reach the server's log, even when a client puts one in a URL, however
it is encoded, cut short, upper-cased or run together with what follows."""

import json
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from tests.api.raw_http import raw_request
from tests.conftest import Account
from tests.support import Server

PIECE = 16  # no run of this many characters of a secret's body may reach the log


def encoded(text: str) -> str:
    """Every character percent-encoded, as a client that over-quotes sends it."""
    return "".join(f"%{ord(char):02X}" for char in text)


def variants(secret: str) -> list[str]:
    body = secret[4:]
    return [
        secret,
        secret + "X",  # followed by letters or digits
        secret + "abc123",
        "TKD_" + body,  # upper-case prefix
        secret.upper(),
        secret.lower(),
        secret[:39],  # truncated: the checksum gives back the last character
        secret[:30],
        body,  # without its prefix
        body[:20],
        body[8:28],
        secret.replace("_", "%5F"),  # partly percent-encoded
        secret.replace("_", "%5f"),
        encoded(secret),  # fully percent-encoded
        encoded(secret[:39]) + "Zz9",
        quote(encoded(secret)),  # encoded twice: %2574%256B...
        quote(quote(encoded(secret))),  # three times
        "tkd%5F" + encoded(body[:18]) + body[18:],
    ]


def leaked_pieces(secret: str, log: str) -> list[str]:
    """The PIECE-long pieces of the secret's body found in the log, whatever their case
    and however many times the log's text was percent-encoded."""
    texts = [log]
    for _ in range(4):
        texts.append(unquote(texts[-1]))
    haystack = "\n".join(texts).upper()
    body = secret[4:].upper()
    return [
        body[i : i + PIECE] for i in range(len(body) - PIECE + 1) if body[i : i + PIECE] in haystack
    ]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secrets_in_urls_are_redacted_from_the_log(
    database_url: str, alice: Account, tmp_path: Path, log_format: str
) -> None:
    log = tmp_path / "redact.log"
    env = {"TOKEND_LOG_LEVEL": "debug", "TOKEND_LOG_FORMAT": log_format}
    with (
        Server(database_url=database_url, log_path=log, env=env) as node,
        node.client(alice.token) as api,
    ):
        made = api.post("/v3/user/tokens", json={"name": "pasted"}).json()
        secret = made["bearerToken"]
        assert api.get(f"/v5/user/tokens/{secret}").status_code == 404
        assert api.get(f"/nowhere/{secret}", params={"token": secret}).status_code == 404
        assert api.delete(f"/v3/user/tokens/{alice.token}").status_code == 404
        for form in variants(secret) + variants(alice.token):
            # Sent as written: httpx would re-quote a path, uvicorn logs the query as sent.
            for target in (
                f"/v5/user/tokens/{form}",
                f"/v6/user/tokens?t={form}",
                f"/v6/user/tokens?until=1&x={form}&y=1",
                f"/nowhere/{form}/rotate?q={form}abc",
            ):
                headers = [(b"Authorization", f"Bearer {alice.token}".encode())]
                answer = raw_request(node.url, b"GET", target.encode(), headers)
                assert answer.status_code in (200, 400, 404), target
    text = log.read_text()
    assert "GET /v5/user/tokens/[REDACTED]" in text
    assert "t=[REDACTED]" in text
    if log_format == "json":
        # The access log's path field is the redacted one too.
        paths = [json.loads(line).get("path", "") for line in text.splitlines()]
        assert "/v5/user/tokens/[REDACTED]" in paths
    for leaked in (secret, alice.token):
        assert leaked_pieces(leaked, text) == []


def test_probes_answer_head(server: Server) -> None:
    with server.client() as api:
        for path in ("/healthz", "/readyz"):
            assert api.head(path).status_code == 200
