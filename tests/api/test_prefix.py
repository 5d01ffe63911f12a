"""TOKEND_TOKEN_PREFIX names the prefix of new secrets; secrets issued under an
earlier prefix keep working after it changes (SPEC §1)."""

from pathlib import Path

from tests.conftest import Account
from tests.support import Server


def test_tokens_of_an_earlier_prefix_keep_working(
    database_url: str, alice: Account, tmp_path: Path
) -> None:
    first = Server(database_url=database_url, log_path=tmp_path / "first.log")
    with first, first.client(alice.token) as api:
        made = api.post("/v3/user/tokens", json={"name": "made under tkd_"}).json()
    old_secret = made["bearerToken"]
    assert old_secret.startswith("tkd_")

    renamed = Server(
        database_url=database_url,
        log_path=tmp_path / "renamed.log",
        env={"TOKEND_TOKEN_PREFIX": "acme_"},
    )
    with renamed:
        with renamed.client(old_secret) as api:
            assert api.get("/v2/user").status_code == 200
            new = api.post("/v3/user/tokens", json={"name": "made under acme_"}).json()
            assert new["bearerToken"].startswith("acme_")
            assert new["token"]["prefix"] == "acme_"
            current = api.get("/v5/user/tokens/current").json()["token"]
            assert current["prefix"] == "tkd_"
            rotated = api.post(f"/v3/user/tokens/{made['token']['id']}/rotate")
            assert rotated.status_code == 200
            assert rotated.json()["bearerToken"].startswith("acme_")
        with renamed.client(old_secret) as api:
            assert api.get("/v2/user").status_code == 401  # rotated away, like any other
        with renamed.client(new["bearerToken"]) as api:
            assert api.get("/v2/user").status_code == 200
        # A prefix that was never issued is still checked for its checksum: refused
        # as malformed before any look-up, whatever prefix it claims.
        forged = "ghp_" + new["bearerToken"].removeprefix("acme_")[:-1] + "0"
        with renamed.client(forged) as api:
            response = api.get("/v2/user")
        assert response.status_code == 401
