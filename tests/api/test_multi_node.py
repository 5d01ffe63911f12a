"""Several `tokend serve` processes on one database: PostgreSQL across machines,
SQLite across processes of one machine."""

from pathlib import Path

from tests.conftest import Account
from tests.support import Server


def test_revoked_on_one_node_is_rejected_by_the_other(
    server: Server, database_url: str, alice: Account, tmp_path: Path
) -> None:
    with Server(database_url=database_url, log_path=tmp_path / "b.log") as node_b:
        with server.client(alice.token) as a:
            made = a.post("/v3/user/tokens", json={"name": "shared"}).json()
        with node_b.client(made["bearerToken"]) as b:
            assert b.get("/v2/user").status_code == 200
        with server.client(alice.token) as a:
            assert a.delete(f"/v3/user/tokens/{made['token']['id']}").status_code == 200
        with node_b.client(made["bearerToken"]) as b:
            response = b.get("/v2/user")
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "invalid_token"


def test_two_workers_share_the_database(database_url: str, alice: Account, tmp_path: Path) -> None:
    node = Server(database_url=database_url, log_path=tmp_path / "w.log", workers=2)
    with node, node.client(alice.token) as api:
        made = [api.post("/v3/user/tokens", json={"name": f"w{i}"}) for i in range(10)]
        assert all(response.status_code == 200 for response in made)
        listed = api.get("/v6/user/tokens", params={"limit": 100}).json()["tokens"]
    assert {r.json()["token"]["id"] for r in made} <= {t["id"] for t in listed}
