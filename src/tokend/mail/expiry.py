"""The expiry warning email: plain text and HTML, naming the token, when it expires
(UTC, and in words) and where to rotate it. It says nothing a reader could use to
authenticate: no secret, not even its last characters."""

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tokend.domain.expiry import ExpiryNotice

_UNITS = (("day", 86_400_000), ("hour", 3_600_000), ("minute", 60_000), ("second", 1000))


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("tokend.mail", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def remaining_in_words(ms: int) -> str:
    """About how long ``ms`` is, in its largest whole unit ("6 days", "1 hour")."""
    for unit, size in _UNITS:
        if ms >= size or unit == "second":
            amount = max(round(ms / size), 1) if ms > 0 else 0
            return f"{amount} {unit}" if amount == 1 else f"{amount} {unit}s"
    raise AssertionError("unreachable")


def utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def expiry_email(notice: ExpiryNotice, *, sender: str, base_url: str) -> EmailMessage:
    token, user = notice.token, notice.user
    left = remaining_in_words(notice.expires_at - notice.at)
    if notice.expired:
        subject = f'Your token "{token.name}" has expired'
    else:
        subject = f'Your token "{token.name}" expires in {left}'
    values = {
        "name": user.name or user.username,
        "token_name": token.name,
        "expired": notice.expired,
        "expires_at": utc(notice.expires_at),
        "in_words": left,
        "tokens_url": f"{base_url}/tokens",
    }
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = formataddr((user.name or "", user.email))
    message["Date"] = formatdate(notice.at / 1000, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    message.set_content(_templates().get_template("expiry.txt").render(values))
    message.add_alternative(_templates().get_template("expiry.html").render(values), subtype="html")
    return message
