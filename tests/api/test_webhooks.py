"""Webhooks end to end: a real `tokend serve` (its sender thread) posting to a real
HTTP receiver in the test process, on both databases."""

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from tests.conftest import Account
from tests.support import Server, eventually
from tests.webhook_receiver import Receiver, open_server_process

EVENTS = ["token.created", "token.revoked"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def open_server(
    services: object, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server that may call 127.0.0.1, retrying quickly."""
    with open_server_process(database_url, tmp_path_factory.mktemp("wh") / "tokend.log") as running:
        yield running


def _add_webhook(
    server: Server, token: str, url: str, events: list[str] = EVENTS
) -> dict[str, Any]:
    with server.client(token) as http:
        answer = http.post("/v1/webhooks", json={"url": url, "events": events})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _create_tokens(server: Server, token: str, count: int) -> list[str]:
    with server.client(token) as http:
        made = [http.post("/v3/user/tokens", json={"name": f"t{i}"}) for i in range(count)]
    assert all(answer.status_code == 200 for answer in made)
    return [answer.json()["bearerToken"] for answer in made]


def test_a_delivery_is_signed_retried_with_the_same_id_and_recorded(
    open_server: Server, alice: Account, receiver: Receiver
) -> None:
    receiver.status = 500
    created = _add_webhook(open_server, alice.token, receiver.url)
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert created["webhook"]["id"].startswith("wh_")
    bearer = _create_tokens(open_server, alice.token, 1)[0]
    assert eventually(lambda: len(receiver.received) >= 2, 15)
    receiver.status = 204
    assert eventually(lambda: _last_ok(open_server, alice, created), 15)
    ids = set(receiver.ids())
    assert len(ids) == 1  # every attempt carries the same webhook-id
    for headers, body in receiver.received:
        verified = Verifier(secret).verify(body, headers)
        assert verified["type"] == "token.created"
        assert verified["data"]["userId"] == alice.user_id
        assert verified["data"]["token"]["name"] == "t0"
        assert bearer not in body.decode()
        assert secret not in body.decode()
        with pytest.raises(WebhookVerificationError):
            Verifier("whsec_" + "QUFB" * 8).verify(body, headers)
    with open_server.client(alice.token) as http:
        deliveries = http.get(f"/v1/webhooks/{created['webhook']['id']}/deliveries").json()
    [delivery] = deliveries["deliveries"]
    assert delivery["id"] in ids
    assert delivery["status"] == "delivered"
    codes = [attempt["statusCode"] for attempt in delivery["attempts"]]
    assert codes[0] == 204
    assert set(codes[1:]) == {500}
    assert len(codes) >= 3
    assert all(attempt["durationMs"] >= 0 for attempt in delivery["attempts"])
    assert secret not in open_server.log_path.read_text()


def _last_ok(server: Server, account: Account, created: dict[str, Any]) -> bool:
    with server.client(account.token) as http:
        page = http.get(f"/v1/webhooks/{created['webhook']['id']}/deliveries").json()
    return bool(page["deliveries"]) and page["deliveries"][0]["status"] == "delivered"


def test_a_receiver_outage_then_recovery_delivers_everything(
    open_server: Server, alice: Account
) -> None:
    receiver = Receiver()  # not listening yet: connections are refused
    _add_webhook(open_server, alice.token, receiver.url, ["token.created"])
    _create_tokens(open_server, alice.token, 5)
    time.sleep(2.5)  # some attempts fail meanwhile
    receiver.start()
    try:
        assert eventually(lambda: len(set(receiver.ids())) == 5, 20)
    finally:
        receiver.stop()


def test_deliveries_pending_at_a_kill_are_sent_after_a_restart(
    services: object, database_url: str, tmp_path: Path, alice: Account
) -> None:
    receiver = Receiver()
    server = open_server_process(database_url, tmp_path / "tokend.log").start()
    try:
        _add_webhook(server, alice.token, receiver.url, ["token.created"])
        _create_tokens(server, alice.token, 4)
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        receiver.start()
        server.start()
        assert eventually(lambda: len(set(receiver.ids())) == 4, 20)
    finally:
        server.stop()
        receiver.stop()


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://localhost/hook",  # a name that resolves to loopback
        "http://example.com/hook",  # plain http
    ],
)
def test_private_addresses_are_refused_by_default(server: Server, alice: Account, url: str) -> None:
    with server.client(alice.token) as http:
        answer = http.post("/v1/webhooks", json={"url": url, "events": ["token.created"]})
        assert answer.status_code == 400, answer.text
        assert http.get("/v1/webhooks").json() == {"webhooks": []}


def test_a_webhook_is_its_owners_only(
    open_server: Server, make_user: Callable[..., Account], receiver: Receiver
) -> None:
    owner, other = make_user("owner"), make_user("other")
    created = _add_webhook(open_server, owner.token, receiver.url)
    hook_id = created["webhook"]["id"]
    with open_server.client(other.token) as http:
        assert http.get(f"/v1/webhooks/{hook_id}").status_code == 404
        assert http.delete(f"/v1/webhooks/{hook_id}").status_code == 404
        assert http.get(f"/v1/webhooks/{hook_id}/deliveries").status_code == 404
        _create_tokens(open_server, other.token, 1)
    with open_server.client(owner.token) as http:
        listed = http.get("/v1/webhooks").json()["webhooks"]
        assert [hook["id"] for hook in listed] == [hook_id]
        assert "secret" not in json.dumps(listed)
        time.sleep(1.5)
        assert receiver.received == []  # the other user's token is not the owner's event
        assert http.delete(f"/v1/webhooks/{hook_id}").status_code == 200
        assert http.get(f"/v1/webhooks/{hook_id}").status_code == 404
