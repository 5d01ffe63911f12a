"""Expiry warnings through a real `tokend serve` and a real SMTP server (aiosmtpd):
the token.expiring event and its email, then token.expired, and no duplicate after a
restart; no secret in the email or the server's log."""

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support import Server, free_port
from tokend.bootstrap import Services

SMTP_USER = "tokend-mailer"
SMTP_PASSWORD = "smtp-pass-" + uuid.uuid4().hex
PUBLIC_URL = "https://tokens.example.com/tokend"


@dataclass
class Mailbox:
    """What the SMTP server received, and who signed in to send it."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login.decode(), data.password.decode()))
        valid = (data.login.decode(), data.password.decode()) == (SMTP_USER, SMTP_PASSWORD)
        return AuthResult(success=valid)

    def to(self, address: str) -> list[EmailMessage]:
        return [message for recipients, message in self.messages if address in recipients]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=box.authenticate,
        auth_require_tls=False,  # a test relay on loopback, without a certificate
    )
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def eventually(condition: Callable[[], bool], timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_token_near_its_expiry_is_warned_once_by_event_and_email(
    services: Services, database_url: str, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, smtp_port = mailbox
    username = f"expiry-{uuid.uuid4().hex[:10]}"
    email = f"{username}@example.com"
    created = services.admin.create_user(username, email=email, name="Ada Expiry")
    own_token = created.issued.secret
    env = {
        "TOKEND_EXPIRY_WARNINGS": "1s",
        "TOKEND_EXPIRY_SCAN_INTERVAL": "1s",
        "TOKEND_SMTP_URL": f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{smtp_port}",
        "TOKEND_SMTP_FROM": "tokend <tokend@example.com>",
        "TOKEND_PUBLIC_URL": PUBLIC_URL,
    }
    log = tmp_path / "tokend.log"

    def events(node: Server) -> list[dict[str, Any]]:
        with node.client(own_token) as api:
            listed: list[dict[str, Any]] = api.get("/v1/user/events").json()["events"]
        return [event for event in listed if event["type"].startswith("token.expir")]

    # Made without an address: USERNAME@localhost, a placeholder that is not mailed.
    placeholder = services.admin.create_user(f"quiet-{uuid.uuid4().hex[:10]}")

    with Server(database_url=database_url, log_path=log, env=env) as node:
        expires_at = int(time.time() * 1000) + 2500
        with node.client(own_token) as api:
            body = api.post(
                "/v3/user/tokens", json={"name": "nightly-deploy", "expiresAt": expires_at}
            ).json()
        with node.client(placeholder.issued.secret) as api:
            api.post("/v3/user/tokens", json={"name": "unmailed", "expiresAt": expires_at})
        token_id, bearer = body["token"]["id"], body["bearerToken"]

        eventually(lambda: len(events(node)) == 1)
        eventually(lambda: len(box.to(email)) == 1)
        [expiring] = events(node)
        assert expiring["type"] == "token.expiring"
        assert expiring["tokenId"] == token_id
        assert expiring["token"]["expiresAt"] == expires_at
        assert expiring["createdAt"] >= expires_at - 1000 - 1100  # within a scan of crossing

        eventually(lambda: len(events(node)) == 2)
        eventually(lambda: len(box.to(email)) == 2)
        assert [event["type"] for event in events(node)] == ["token.expired", "token.expiring"]
        assert events(node)[0]["createdAt"] >= expires_at
        time.sleep(2.5)  # two more scans: nothing new
        assert len(events(node)) == 2
        with node.client(placeholder.issued.secret) as api:
            listed = api.get("/v1/user/events").json()["events"]
        assert [event["type"] for event in listed][:2] == ["token.expired", "token.expiring"]
    assert box.to(placeholder.user.email) == []

    warning, expired = box.to(email)
    assert warning["Subject"] == 'Your token "nightly-deploy" expires in 1 second'
    assert expired["Subject"] == 'Your token "nightly-deploy" has expired'
    assert warning["To"] == f"Ada Expiry <{email}>"
    assert warning["From"] == "tokend <tokend@example.com>"
    assert (SMTP_USER, SMTP_PASSWORD) in box.logins
    for message in (warning, expired):
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert text is not None
        assert html is not None
        plain, markup = text.get_content(), html.get_content()
        assert "nightly-deploy" in plain
        assert "nightly-deploy" in markup
        assert f"{PUBLIC_URL}/tokens" in plain
        assert f'href="{PUBLIC_URL}/tokens"' in markup
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(expires_at // 1000))
        assert when in plain
        assert when in markup
        for secret in (bearer, own_token, SMTP_PASSWORD):
            assert secret not in message.as_string()
    assert "in 1 second" in warning.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    # A restart: the notices are in the database, so nothing is sent again.
    sent = len(box.messages)
    with Server(database_url=database_url, log_path=log, env=env) as node:
        time.sleep(3.5)
        assert len(events(node)) == 2
    assert len(box.to(email)) == 2
    assert len(box.messages) >= sent  # other tests' tokens may expire meanwhile

    server_log = log.read_text()
    for secret in (bearer, own_token, SMTP_PASSWORD):
        assert secret not in server_log


def test_a_mail_server_away_does_not_stop_the_warnings(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    username = f"expiry-{uuid.uuid4().hex[:10]}"
    created = services.admin.create_user(username, email=f"{username}@example.com")
    env = {
        "TOKEND_EXPIRY_WARNINGS": "1s",
        "TOKEND_EXPIRY_SCAN_INTERVAL": "1s",
        # Nothing listens there: every send fails, at once.
        "TOKEND_SMTP_URL": f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{free_port()}",
        "TOKEND_SMTP_FROM": "tokend@example.com",
    }
    log = tmp_path / "tokend.log"
    with (
        Server(database_url=database_url, log_path=log, env=env) as node,
        node.client(created.issued.secret) as api,
    ):
        expires_at = int(time.time() * 1000) + 1500
        api.post("/v3/user/tokens", json={"name": "ci", "expiresAt": expires_at})

        def types() -> list[str]:
            listed = api.get("/v1/user/events").json()["events"]
            return [event["type"] for event in listed if event["type"].startswith("token.exp")]

        eventually(lambda: types() == ["token.expired", "token.expiring"])
    server_log = log.read_text()
    assert "could not email the expiry notice" in server_log
    assert SMTP_PASSWORD not in server_log
    assert created.issued.secret not in server_log
