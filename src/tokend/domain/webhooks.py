"""Webhooks (SPEC §12): where a user's or a team's token events are sent, the outbox
of deliveries and their attempts, and the rule for which addresses may be called."""

import base64
import ipaddress
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from tokend.domain.durations import parse_duration
from tokend.domain.errors import ValidationFailed

# The event types a webhook may subscribe to (strings, not `EventType`: the expiry
# events are written by another module, and the set is the contract either way).
EVENT_TYPES: tuple[str, ...] = (
    "token.created",
    "token.revoked",
    "token.rotated",
    "token.leaked",
    "token.expiring",
    "token.expired",
    "auth.rate_limited",
)
URL_MAX_LENGTH = 2048
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
ERROR_MAX_LENGTH = 200
RETRY_WINDOW_MS = 24 * 3_600_000
# Cloud metadata services: refused whatever TOKEND_WEBHOOK_ALLOW_PRIVATE says, as a
# webhook that reached one would hand the instance's cloud credentials to its owner.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    user_id: str
    team_id: str | None  # None: the user's own; else the team's
    url: str
    events: tuple[str, ...]
    created_at: int
    failing_since: int | None = None
    disabled_at: int | None = None

    def wants(self, event_type: str) -> bool:
        return self.disabled_at is None and event_type in self.events


@dataclass(frozen=True, slots=True)
class Attempt:
    attempted_at: int
    duration_ms: int
    status_code: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str  # the webhook-id header, the same on every attempt
    webhook_id: str
    event_type: str
    payload: str  # the JSON body, exactly as signed
    created_at: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: int
    delivered_at: int | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    attempt_log: tuple[Attempt, ...] = ()  # newest first, when read for the API


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and the base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def validate_events(events: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(events))
    if not chosen:
        raise ValidationFailed("events must name at least one event type.")
    unknown = [event for event in chosen if event not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(
            "Unknown event type: "
            + ", ".join(sorted(unknown)[:5])[:200]
            + ". Choose from "
            + ", ".join(EVENT_TYPES)
            + "."
        )
    return chosen


@dataclass(frozen=True, slots=True)
class Destination:
    url: str
    scheme: str
    host: str  # as written, an IP literal without brackets or a name
    port: int


def parse_url(url: str, *, allow_plain_http: bool) -> Destination:
    """A webhook URL: https (plain http only where private addresses are allowed, for
    development), a host, no credentials in it."""
    if len(url) > URL_MAX_LENGTH:
        raise ValidationFailed(f"The URL must be at most {URL_MAX_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationFailed("The URL is not a valid URL.") from None
    schemes = ("https", "http") if allow_plain_http else ("https",)
    if parts.scheme not in schemes:
        raise ValidationFailed("The URL must be https://.")
    if not parts.hostname:
        raise ValidationFailed("The URL must name a host.")
    if parts.username is not None or parts.password is not None:
        raise ValidationFailed("The URL must not hold credentials.")
    if any(char.isspace() or ord(char) < 0x20 for char in url):
        raise ValidationFailed("The URL must not hold spaces or control characters.")
    default = 443 if parts.scheme == "https" else 80
    return Destination(url=url, scheme=parts.scheme, host=parts.hostname, port=port or default)


def refusal(address: str, *, allow_private: bool) -> str | None:
    """Why a webhook may not connect to ``address`` (an IP); None if it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if allow_private:
        return None
    if ip.is_unspecified or ip.is_multicast or ip.is_loopback or ip.is_link_local:
        return "a loopback, link-local, multicast or unspecified address"
    if not ip.is_global:
        return "a private address"
    return None


def refusal_of_all(addresses: Sequence[str], *, allow_private: bool) -> str | None:
    """Why the resolved addresses may not be used: every one must be allowed, so a name
    that resolves to a public and a private address cannot be steered to the second."""
    if not addresses:
        return "the host does not resolve"
    for address in addresses:
        reason = refusal(address, allow_private=allow_private)
        if reason:
            return reason
    return None


def next_attempt_at(
    created_at: int, attempts: int, now: int, schedule: Sequence[int]
) -> int | None:
    """When a delivery that has failed ``attempts`` times is tried next; None: never.

    The schedule's delays first; a schedule that ends before the delivery is a day old
    (the default one ends 17 h 35 min after the first attempt) gets one last attempt at
    that mark, as deliveries are retried for 24 h (SPEC §12) whatever the schedule."""
    if attempts <= len(schedule):
        return now + schedule[attempts - 1]
    last_chance = created_at + RETRY_WINDOW_MS
    return last_chance if now < last_chance else None


def parse_schedule(text: str) -> tuple[int, ...]:
    delays = tuple(parse_duration(part) for part in text.split(",") if part.strip())
    if not delays:
        raise ValidationFailed("The retry schedule must list at least one duration.")
    return delays
