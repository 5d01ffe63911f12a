"""Webhooks end to end: a real `tokend serve` (its sender thread) posting to a real
HTTP receiver in the test process, on both databases."""

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from tests.conftest import Account
from tests.support import Server, eventually
from tests.tls import make_certificates
from tests.webhook_receiver import Instance, Receiver, open_server_process, own_instance
from tokend.service.webhook_sender import LEASE_MS
from tokend.storage.schema import webhooks

EVENTS = ["token.created", "token.revoked"]


@pytest.fixture
def open_server(webhook_instance: Instance) -> Server:
    return webhook_instance.server


@pytest.fixture
def alice(webhook_instance: Instance) -> Account:
    return webhook_instance.user("alice")


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
    webhook_instance: Instance, tmp_path: Path, alice: Account
) -> None:
    receiver = Receiver()
    server = open_server_process(webhook_instance.url, tmp_path / "tokend.log").start()
    try:
        _add_webhook(server, alice.token, receiver.url, ["token.created"])
        _create_tokens(server, alice.token, 4)
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        receiver.start()
        server.start()
        # A delivery the killed sender had claimed waits for its lease to run out.
        assert eventually(lambda: len(set(receiver.ids())) == 4, LEASE_MS / 1000 + 20)
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
def test_private_addresses_are_refused_by_default(
    server: Server, make_user: Callable[..., Account], url: str
) -> None:
    alice = make_user("alice")  # on the session's server, which refuses them
    with server.client(alice.token) as http:
        answer = http.post("/v1/webhooks", json={"url": url, "events": ["token.created"]})
        assert answer.status_code == 400, answer.text
        assert http.get("/v1/webhooks").json() == {"webhooks": []}


def test_a_webhook_is_its_owners_only(
    open_server: Server, webhook_instance: Instance, receiver: Receiver
) -> None:
    owner, other = webhook_instance.user("owner"), webhook_instance.user("other")
    created = _add_webhook(open_server, owner.token, receiver.url)
    hook_id = created["webhook"]["id"]
    with open_server.client(other.token) as http:
        assert http.get(f"/v1/webhooks/{hook_id}").status_code == 404
        assert http.delete(f"/v1/webhooks/{hook_id}").status_code == 404
        assert http.patch(f"/v1/webhooks/{hook_id}", json={"enabled": False}).status_code == 404
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


def test_team_webhooks_get_team_token_events_and_user_webhooks_personal_ones(
    open_server: Server, webhook_instance: Instance, alice: Account
) -> None:
    team = webhook_instance.services.admin.create_team(f"t-{alice.username}", owner=alice.username)
    personal_receiver, team_receiver = Receiver().start(), Receiver().start()
    try:
        with open_server.client(alice.token) as http:
            made = http.post("/v3/user/tokens", json={"name": "team"}, params={"teamId": team.id})
        team_token = made.json()["bearerToken"]
        _add_webhook(open_server, alice.token, personal_receiver.url, ["token.created"])
        team_hook = _add_webhook(open_server, team_token, team_receiver.url, ["token.created"])
        assert team_hook["webhook"]["teamId"] == team.id
        with open_server.client(team_token) as http:
            made = http.post("/v3/user/tokens", json={"name": "for the team"})
            assert made.status_code == 200
            # A team token sees its team's webhooks only.
            assert [h["id"] for h in http.get("/v1/webhooks").json()["webhooks"]] == [
                team_hook["webhook"]["id"]
            ]
        _create_tokens(open_server, alice.token, 1)  # a personal token
        assert eventually(lambda: len(team_receiver.received) == 1, 20)
        assert eventually(lambda: len(personal_receiver.received) == 1, 20)
        time.sleep(1.5)  # nothing more arrives
        [(_, team_body)] = team_receiver.received
        [(_, personal_body)] = personal_receiver.received
        assert json.loads(team_body)["data"]["token"]["name"] == "for the team"
        assert json.loads(personal_body)["data"]["token"]["name"] == "t0"
    finally:
        personal_receiver.stop()
        team_receiver.stop()


def test_https_receivers_are_checked_against_the_trusted_certificates(
    backend: str, tmp_path: Path
) -> None:
    ours = make_certificates(tmp_path / "ours")
    theirs = make_certificates(tmp_path / "theirs", authority="nobody we know")
    good = Receiver(tls=ours.server_context()).start()
    forged = Receiver(tls=theirs.server_context()).start()
    # The operator's private CA, trusted the usual way (tokend.tls).
    env = {"SSL_CERT_FILE": str(ours.ca_file)}
    try:
        with own_instance(backend, tmp_path, **env) as dedicated:
            owner = dedicated.user("tls")
            server = dedicated.server
            secret = _add_webhook(server, owner.token, good.url, ["token.created"])["secret"]
            refused = _add_webhook(server, owner.token, forged.url, ["token.created"])
            _create_tokens(server, owner.token, 1)
            assert eventually(lambda: len(good.received) == 1, 15)
            headers, body = good.received[0]
            assert Verifier(secret).verify(body, headers)["type"] == "token.created"

            def failed_on_the_certificate() -> bool:
                with server.client(owner.token) as http:
                    path = f"/v1/webhooks/{refused['webhook']['id']}/deliveries"
                    [delivery] = http.get(path).json()["deliveries"]
                attempts = delivery["attempts"]
                return bool(attempts) and "certificate" in attempts[0]["error"]

            assert eventually(failed_on_the_certificate, 15)
            assert forged.received == []  # the handshake failed: nothing was sent
    finally:
        good.stop()
        forged.stop()


def test_redirects_are_not_followed_and_count_as_failures(
    open_server: Server, alice: Account, receiver: Receiver
) -> None:
    receiver.status = 302
    created = _add_webhook(open_server, alice.token, receiver.url, ["token.created"])
    _create_tokens(open_server, alice.token, 1)
    assert eventually(lambda: len(receiver.received) >= 2, 10)
    assert set(receiver.paths) == {"/hook"}  # never /elsewhere
    with open_server.client(alice.token) as http:
        page = http.get(f"/v1/webhooks/{created['webhook']['id']}/deliveries").json()
    [delivery] = page["deliveries"]
    assert delivery["status"] == "pending"
    assert {attempt["statusCode"] for attempt in delivery["attempts"]} == {302}


def test_a_hanging_receiver_times_out_after_10_seconds(
    open_server: Server, alice: Account, receiver: Receiver
) -> None:
    receiver.hang = True
    created = _add_webhook(open_server, alice.token, receiver.url, ["token.created"])
    _create_tokens(open_server, alice.token, 1)

    def attempted() -> list[dict[str, Any]]:
        with open_server.client(alice.token) as http:
            page = http.get(f"/v1/webhooks/{created['webhook']['id']}/deliveries").json()
        return list(page["deliveries"][0]["attempts"]) if page["deliveries"] else []

    assert eventually(lambda: bool(attempted()), 20)
    [attempt] = attempted()[-1:]
    assert attempt["error"] == "timed out after 10 s"
    assert 9_500 <= attempt["durationMs"] < 14_000


def test_a_hanging_receiver_holds_up_its_own_deliveries_not_the_others(
    backend: str, tmp_path: Path
) -> None:
    """Six deliveries to a receiver that hangs hold six of the sender's eight workers
    for the 10 s timeout; a delivery to another receiver still goes out at the next
    poll, although fewer workers are idle than the sender waits for when one frees."""
    hanging, fast = Receiver(), Receiver()
    hanging.hang = True
    hanging.start()
    fast.start()
    try:
        with own_instance(backend, tmp_path) as alone:  # its server is the only sender
            bob = alone.user("bob")
            _add_webhook(alone.server, bob.token, hanging.url, ["token.created"])
            _create_tokens(alone.server, bob.token, 6)
            assert eventually(lambda: len(hanging.received) == 6, 10)
            held_since = time.monotonic()
            _add_webhook(alone.server, bob.token, fast.url, ["token.created"])
            _create_tokens(alone.server, bob.token, 1)  # one more to each
            assert eventually(lambda: len(fast.received) == 1, 10)
            # Before any of the six timed out, which would have freed their workers.
            assert time.monotonic() - held_since < 6
    finally:
        hanging.stop()
        fast.stop()


def test_the_secret_is_sealed_at_rest(
    open_server: Server, webhook_instance: Instance, alice: Account, receiver: Receiver
) -> None:
    created = _add_webhook(open_server, alice.token, receiver.url)
    with webhook_instance.services.engine.connect() as conn:
        row = conn.execute(
            select(webhooks.c.secret, webhooks.c.secret_sealed).where(
                webhooks.c.id == created["webhook"]["id"]
            )
        ).one()
    assert row.secret_sealed == 1
    assert created["secret"].encode() not in row.secret
    assert created["secret"].removeprefix("whsec_").encode() not in row.secret


def test_two_nodes_send_each_delivery_once(
    webhook_instance: Instance, tmp_path: Path, alice: Account, receiver: Receiver
) -> None:
    first = open_server_process(webhook_instance.url, tmp_path / "a.log").start()
    second = open_server_process(webhook_instance.url, tmp_path / "b.log").start()
    try:
        _add_webhook(first, alice.token, receiver.url, ["token.created"])
        _create_tokens(first, alice.token, 10)
        _create_tokens(second, alice.token, 10)
        assert eventually(lambda: len(set(receiver.ids())) == 20, 20)
        time.sleep(1.5)
        assert len(receiver.ids()) == 20  # none sent twice
    finally:
        first.stop()
        second.stop()


def test_a_webhook_failing_too_long_is_disabled_with_an_event(
    backend: str, tmp_path: Path, receiver: Receiver
) -> None:
    # An instance of its own: another server on the same database (whose webhooks
    # are disabled only after 3 days) could take the deliveries.
    receiver.status = 503
    with own_instance(backend, tmp_path, TOKEND_WEBHOOK_DISABLE_AFTER="2s") as dedicated:
        _expect_disabled(dedicated.server, dedicated.user("dora").token, receiver)


def _expect_disabled(server: Server, token: str, receiver: Receiver) -> None:
    created = _add_webhook(server, token, receiver.url, ["token.created"])
    hook_id = created["webhook"]["id"]
    _create_tokens(server, token, 1)

    def disabled() -> bool:
        with server.client(token) as http:
            return "disabledAt" in http.get(f"/v1/webhooks/{hook_id}").json()["webhook"]

    assert eventually(disabled, 15)
    tried = len(receiver.received)
    assert tried >= 3
    _create_tokens(server, token, 1)
    with server.client(token) as http:
        events = http.get("/v1/user/events", params={"limit": 10}).json()["events"]
        [delivery] = http.get(f"/v1/webhooks/{hook_id}/deliveries").json()["deliveries"]
    assert "webhook.disabled" in [event["type"] for event in events]
    assert delivery["status"] == "failed"
    time.sleep(1.5)
    assert len(receiver.received) == tried  # a disabled webhook gets nothing new

    # The receiver is fixed; its owner turns the webhook back on.
    receiver.status = 204
    with server.client(token) as http:
        answer = http.patch(f"/v1/webhooks/{hook_id}", json={"enabled": True})
    assert answer.status_code == 200, answer.text
    hook = answer.json()["webhook"]
    assert "disabledAt" not in hook
    assert "failingSince" not in hook
    _create_tokens(server, token, 1)
    assert eventually(lambda: len(receiver.received) == tried + 1, 15)
    with server.client(token) as http:
        deliveries = http.get(f"/v1/webhooks/{hook_id}/deliveries").json()["deliveries"]
    # The new event is delivered; those that failed while it was disabled stay failed.
    assert eventually(lambda: _statuses(server, token, hook_id) == ["delivered", "failed"], 15)
    assert deliveries[-1]["id"] == delivery["id"]
    assert len(set(receiver.ids())) == 2


def _statuses(server: Server, token: str, hook_id: str) -> list[str]:
    with server.client(token) as http:
        deliveries = http.get(f"/v1/webhooks/{hook_id}/deliveries").json()["deliveries"]
    return [delivery["status"] for delivery in deliveries]


def test_a_paused_webhook_gets_nothing_until_it_is_on_again(
    open_server: Server, webhook_instance: Instance, alice: Account, receiver: Receiver
) -> None:
    created = _add_webhook(open_server, alice.token, receiver.url, ["token.created"])
    hook_id = created["webhook"]["id"]
    with open_server.client(alice.token) as http:
        paused = http.patch(f"/v1/webhooks/{hook_id}", json={"enabled": False})
        assert paused.status_code == 200, paused.text
        assert paused.json()["webhook"]["disabledAt"] > 0
        assert http.get(f"/v1/webhooks/{hook_id}").json() == paused.json()
        _create_tokens(open_server, alice.token, 1)
        time.sleep(1.5)
        assert receiver.received == []
        assert http.get(f"/v1/webhooks/{hook_id}/deliveries").json() == {"deliveries": []}
        on = http.patch(f"/v1/webhooks/{hook_id}", json={"enabled": True})
        assert on.status_code == 200
        assert "disabledAt" not in on.json()["webhook"]
        _create_tokens(open_server, alice.token, 1)
        assert eventually(lambda: len(receiver.received) == 1, 15)
        # Not a boolean, or nothing asked: refused, the webhook as it was.
        for body in ({"enabled": "false"}, {"enabled": 0}, {}, {"enabled": None}):
            answer = http.patch(f"/v1/webhooks/{hook_id}", json=body)
            assert answer.status_code == 400, (body, answer.text)
        assert "disabledAt" not in http.get(f"/v1/webhooks/{hook_id}").json()["webhook"]
    # Someone else's (or no such) webhook is not found, and stays as it was.
    other = webhook_instance.user("other")
    with open_server.client(other.token) as http:
        for target in (hook_id, "wh_doesnotexist"):
            answer = http.patch(f"/v1/webhooks/{target}", json={"enabled": False})
            assert answer.status_code == 404, answer.text
    with open_server.client(alice.token) as http:
        assert "disabledAt" not in http.get(f"/v1/webhooks/{hook_id}").json()["webhook"]


def test_metrics_count_outcomes_and_show_the_outbox(
    open_server: Server, alice: Account, receiver: Receiver
) -> None:
    def metric(name: str) -> float:
        text = httpx.get(f"{open_server.url}/metrics").text
        values = [
            float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name)
        ]
        return sum(values)

    delivered_before = metric('tokend_webhook_deliveries_total{outcome="delivered"}')
    retrying_before = metric('tokend_webhook_deliveries_total{outcome="retrying"}')
    receiver.status = 500
    created = _add_webhook(open_server, alice.token, receiver.url, ["token.created"])
    _create_tokens(open_server, alice.token, 1)
    assert eventually(lambda: len(receiver.received) >= 1, 10)
    # Pending, and some seconds old, while it fails.
    assert eventually(lambda: metric("tokend_webhook_outbox_depth") >= 1, 10)
    assert eventually(lambda: metric("tokend_webhook_oldest_pending_age_seconds") > 0, 10)
    receiver.status = 200
    assert eventually(lambda: _last_ok(open_server, alice, created), 15)
    assert metric('tokend_webhook_deliveries_total{outcome="retrying"}') > retrying_before
    assert eventually(
        lambda: metric('tokend_webhook_deliveries_total{outcome="delivered"}') > delivered_before
    )
    text = httpx.get(f"{open_server.url}/metrics").text
    assert "whsec_" not in text
    assert created["webhook"]["id"] not in text


def test_expiry_events_are_delivered(backend: str, tmp_path: Path, receiver: Receiver) -> None:
    # The expiry scan (another module) records its events through the audit log, so
    # they reach the outbox like any other; a quick scan on an instance of its own.
    with own_instance(backend, tmp_path, TOKEND_EXPIRY_SCAN_INTERVAL="1s") as dedicated:
        owner = dedicated.user("eve")
        _add_webhook(
            dedicated.server, owner.token, receiver.url, ["token.expiring", "token.expired"]
        )
        with dedicated.server.client(owner.token) as http:
            expires_at = int(time.time() * 1000) + 3000
            made = http.post("/v3/user/tokens", json={"name": "brief", "expiresAt": expires_at})
        assert made.status_code == 200

        def types() -> list[str]:
            return [json.loads(body)["type"] for _, body in receiver.received]

        assert eventually(lambda: {"token.expiring", "token.expired"} <= set(types()), 20)
        assert all(
            json.loads(body)["data"]["token"]["name"] == "brief" for _, body in receiver.received
        )
