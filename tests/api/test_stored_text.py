"""Whatever text a client sends, what reaches the database is storable: no 500 on
either database for addresses, User-Agents or team names that PostgreSQL would refuse
(NUL) or that do not fit their column. (Leak reports: test_secret_scanning.py.)"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.raw_http import raw_request
from tests.conftest import Account
from tests.support import Server


@pytest.fixture(scope="module")
def proxied_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Behind a trusted proxy, the client address is whatever X-Forwarded-For says.
    log = tmp_path_factory.mktemp("proxied") / "tokend.log"
    env = {"TOKEND_TRUSTED_PROXIES": "127.0.0.1", "TOKEND_RATE_LIMIT_FAILURES": "1000000"}
    with Server(database_url=database_url, log_path=log, env=env) as running:
        yield running


def last_event(server: Server, account: Account) -> dict[str, object]:
    with server.client(account.token) as api:
        event: dict[str, object] = api.get("/v1/user/events", params={"limit": 1}).json()["events"][
            0
        ]
    return event


@pytest.mark.parametrize(
    ("forwarded", "recorded"),
    [
        ("a" * 100, None),
        ("198.51.100.7, " + "9" * 70, None),
        ("not-an-ip", None),
        ("2001:db8:0:0:0:0:0:1", "2001:db8::1"),
        ("198.51.100.7", "198.51.100.7"),
    ],
)
def test_a_forwarded_address_is_recorded_only_when_it_is_one(
    proxied_server: Server, alice: Account, forwarded: str, recorded: str | None
) -> None:
    headers = {"X-Forwarded-For": forwarded}
    with proxied_server.client(alice.token) as api:
        made = api.post("/v3/user/tokens", json={"name": "fwd"}, headers=headers)
        assert made.status_code == 200, made.text
        assert last_event(proxied_server, alice).get("ip") == recorded
        token_id = made.json()["token"]["id"]
        rotated = api.post(f"/v3/user/tokens/{token_id}/rotate", headers=headers)
        assert rotated.status_code == 200, rotated.text
        deleted = api.delete(f"/v3/user/tokens/{rotated.json()['token']['id']}", headers=headers)
        assert deleted.status_code == 200, deleted.text
    assert last_event(proxied_server, alice).get("ip") == recorded


def test_control_characters_in_a_user_agent_are_replaced(
    server: Server, alice: Account, tmp_path: Path
) -> None:
    auth = (b"Authorization", f"Bearer {alice.token}".encode())
    for agent in (b"agent\x00nul", b"agent\x01\x1f\x7f", b"\xff" * 600):
        answer = raw_request(
            server.url,
            b"POST",
            b"/v3/user/tokens",
            [auth, (b"User-Agent", agent), (b"Content-Type", b"application/json")],
            b'{"name": "ua"}',
        )
        # The HTTP parser may refuse such a header itself; never a 500.
        assert answer.status_code in (200, 400), answer.text
        if answer.status_code == 200:
            stored = last_event(server, alice).get("userAgent")
            assert isinstance(stored, str)
            assert "\x00" not in stored
            assert len(stored) <= 512


@pytest.mark.parametrize("query", ["slug=a%00b", "teamId=team_%00", "slug=" + "s" * 300])
def test_team_references_that_cannot_be_stored_are_refused(
    server: Server, alice: Account, query: str
) -> None:
    # Refused by their pattern, before the database is asked.
    with server.client(alice.token) as api:
        response = api.post(f"/v3/user/tokens?{query}", json={"name": "t"})
    assert response.status_code == 400, response.text
