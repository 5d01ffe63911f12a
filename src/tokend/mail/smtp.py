"""The SMTP server tokend sends mail through, from ``TOKEND_SMTP_URL``:
``smtp://[USER:PASSWORD@]HOST[:PORT]`` (port 25; STARTTLS when the server offers it)
or ``smtps://...`` (TLS from the start, port 465). The password is held out of
``repr`` and never put in a message or a log, nor sent over a connection that is
not encrypted, except to a relay on this machine (a loopback address)."""

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from tokend.domain.hosts import is_loopback
from tokend.tls import client_context

SEND_TIMEOUT_S = 10.0
_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


class SmtpUrlError(ValueError):
    """A malformed TOKEND_SMTP_URL; the message never quotes the URL (its password)."""


class PlaintextLoginRefused(smtplib.SMTPException):
    """The server offers no STARTTLS, and the password would cross the network in
    the clear (or a man in the middle removed the offer to read it)."""


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> "SmtpServer":
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise SmtpUrlError(
                "not a URL; use smtp://USER:PASSWORD@HOST:PORT or smtps://..."
            ) from None
        if parts.scheme not in _DEFAULT_PORTS:
            raise SmtpUrlError("use smtp:// or smtps:// (smtp://USER:PASSWORD@HOST:PORT)")
        if not parts.hostname:
            raise SmtpUrlError("names no host; use smtp://USER:PASSWORD@HOST:PORT")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise SmtpUrlError(
                "must have no path, query or fragment: smtp://USER:PASSWORD@HOST:PORT"
            )
        if (parts.username is None) != (parts.password is None):
            raise SmtpUrlError("give both a user and a password, or neither")
        return cls(
            host=parts.hostname,
            port=port or _DEFAULT_PORTS[parts.scheme],
            implicit_tls=parts.scheme == "smtps",
            username=unquote(parts.username) if parts.username is not None else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )

    def send(self, message: EmailMessage) -> None:
        """Send one message; raises `smtplib.SMTPException` or `OSError` on failure."""
        context = client_context()
        client: smtplib.SMTP
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=SEND_TIMEOUT_S, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=SEND_TIMEOUT_S)
        with client:
            if not self.implicit_tls:
                client.ehlo()
                if client.has_extn("starttls"):
                    client.starttls(context=context)
                    client.ehlo()
                elif self.username is not None and not is_loopback(self.host):
                    raise PlaintextLoginRefused(
                        "the SMTP server offers no STARTTLS, so tokend does not send it "
                        "the password: use smtps://, or a server that offers STARTTLS"
                    )
            if self.username is not None and self.password is not None:
                client.login(self.username, self.password)
            client.send_message(message)
