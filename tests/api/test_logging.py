"""Secrets never reach the server's log, even when a client puts one in a URL."""

from pathlib import Path

from tests.conftest import Account
from tests.support import Server


def test_secrets_in_urls_are_redacted_from_the_log(
    database_url: str, alice: Account, tmp_path: Path
) -> None:
    log = tmp_path / "redact.log"
    with Server(database_url=database_url, log_path=log) as node, node.client(alice.token) as api:
        made = api.post("/v3/user/tokens", json={"name": "pasted"}).json()
        secret = made["bearerToken"]
        assert api.get(f"/v5/user/tokens/{secret}").status_code == 404
        assert api.get(f"/nowhere/{secret}", params={"token": secret}).status_code == 404
        assert api.delete(f"/v3/user/tokens/{alice.token}").status_code == 404
    text = log.read_text()
    assert "GET /v5/user/tokens/[REDACTED]" in text
    for leaked in (secret, alice.token):
        assert leaked not in text
        assert leaked[4:20] not in text


def test_probes_answer_head(server: Server) -> None:
    with server.client() as api:
        for path in ("/healthz", "/readyz"):
            assert api.head(path).status_code == 200
