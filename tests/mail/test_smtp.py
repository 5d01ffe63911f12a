"""`SmtpServer.send` against real SMTP servers (aiosmtpd): TLS from the start,
STARTTLS, a certificate nobody vouches for, and a server that offers no encryption
while tokend holds a password."""

import socket
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support import free_port
from tests.tls import Certificates, make_certificates
from tokend.mail.smtp import PlaintextLoginRefused, SmtpServer

USER = "mailer"
PASSWORD = "p@ss/word"  # quoted in the URL


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.logins: list[tuple[str, str, bool]] = []  # user, password, over TLS

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.original_content)
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login = (data.login.decode(), data.password.decode())
        # STARTTLS sets session.ssl; TLS from the start shows on the transport.
        over_tls = bool(session.ssl) or server.transport.get_extra_info("ssl_object") is not None
        self.logins.append((*login, over_tls))
        return AuthResult(success=login == (USER, PASSWORD))


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path / "tls")


@pytest.fixture
def trusted(certificates: Certificates, monkeypatch: pytest.MonkeyPatch) -> Certificates:
    """The test's authority trusted as an operator would: SSL_CERT_FILE."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_file))
    return certificates


def _serve(box: Mailbox, *, host: str = "127.0.0.1", **options: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(
        box, hostname=host, port=port, authenticator=box.authenticate, **options
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "tokend@example.com"
    message["To"] = "alice@example.com"
    message["Subject"] = "Your token expires soon"
    message.set_content("rotate it")
    return message


def _url(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://{USER}:p%40ss%2Fword@{host}:{port}"


def test_smtps_checks_the_certificate_then_logs_in_over_tls(trusted: Certificates) -> None:
    box = Mailbox()
    # aiosmtpd offers AUTH over implicit TLS only when told TLS is not required.
    for port in _serve(box, ssl_context=trusted.server_context(), auth_require_tls=False):
        SmtpServer.from_url(_url("smtps", "127.0.0.1", port)).send(_message())
    assert box.logins == [(USER, PASSWORD, True)]
    assert len(box.messages) == 1


def test_starttls_is_used_when_offered_before_the_password_is_sent(
    trusted: Certificates,
) -> None:
    box = Mailbox()
    context = trusted.server_context()
    for port in _serve(box, tls_context=context, require_starttls=True, auth_require_tls=True):
        SmtpServer.from_url(_url("smtp", "127.0.0.1", port)).send(_message())
    assert box.logins == [(USER, PASSWORD, True)]
    assert len(box.messages) == 1


@pytest.mark.parametrize("scheme", ["smtps", "smtp"])
def test_a_certificate_nobody_vouches_for_gets_no_password(
    certificates: Certificates, scheme: str
) -> None:
    box = Mailbox()
    context = certificates.server_context()
    options: dict[str, Any] = (
        {"ssl_context": context} if scheme == "smtps" else {"tls_context": context}
    )
    for port in _serve(box, **options):
        with pytest.raises(ssl.SSLCertVerificationError):
            SmtpServer.from_url(_url(scheme, "127.0.0.1", port)).send(_message())
    assert box.logins == []
    assert box.messages == []


def _address_beyond_loopback() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: only a route is chosen
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def test_no_password_crosses_the_network_unencrypted() -> None:
    address = _address_beyond_loopback()
    if address is None:
        pytest.skip("this machine has no address beyond loopback")
    box = Mailbox()
    for port in _serve(box, host=address, auth_require_tls=False):
        with pytest.raises(PlaintextLoginRefused) as refused:
            SmtpServer.from_url(_url("smtp", address, port)).send(_message())
    assert box.logins == []
    assert box.messages == []
    assert PASSWORD not in str(refused.value)


def test_a_relay_on_this_machine_may_take_the_password_unencrypted() -> None:
    box = Mailbox()
    for port in _serve(box, auth_require_tls=False):
        SmtpServer.from_url(_url("smtp", "127.0.0.1", port)).send(_message())
    assert box.logins == [(USER, PASSWORD, False)]
