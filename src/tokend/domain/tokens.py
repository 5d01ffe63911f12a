"""The token and its lifecycle: live, then expired, revoked or leaked."""

from dataclasses import dataclass
from enum import StrEnum

from tokend.domain.durations import in_words
from tokend.domain.errors import (
    ExpiredToken,
    InactiveToken,
    LeakedToken,
    RevokedToken,
    ValidationFailed,
)
from tokend.domain.scopes import Scope
from tokend.domain.text import has_control_characters, storable

NAME_MAX_LENGTH = 100
PROJECT_ID_MAX_LENGTH = 256
# Where a leak was found, as a scanner reported it: kept, cut to this length.
LEAKED_URL_MAX_LENGTH = 2048
# 9999-12-31T23:59:59.999Z: later instants do not fit every client's date type.
MAX_TIMESTAMP_MS = 253_402_300_799_999
TOKEN_TYPE = "oauth2-token"
# A rotated token may keep working for at most this long beside its successor.
MAX_OVERLAP_MS = 24 * 3_600_000


class Origin(StrEnum):
    MANUAL = "manual"
    EMAIL = "email"
    APP = "app"  # issued to an integration the person signed in to (OpenID Connect)


@dataclass(frozen=True, slots=True)
class Token:
    id: str
    user_id: str
    name: str
    digest: bytes
    prefix: str
    suffix: str
    origin: Origin
    scope: Scope
    created_at: int
    active_at: int
    expires_at: int | None = None
    project_id: str | None = None
    revoked_at: int | None = None
    leaked_at: int | None = None
    leaked_url: str | None = None
    # The inactivity limit (lifecycle policy) this token obeys, None for none. Not a
    # column: filled in where a token is read to be verified or shown (the team's
    # policy by the repository, then merged with the instance's by the service).
    inactivity_ms: int | None = None
    # None: unrestricted; else all it may do (tokend.domain.permissions).
    permissions: frozenset[str] | None = None

    @property
    def team_id(self) -> str | None:
        return self.scope.team_id

    @property
    def is_listed(self) -> bool:
        """Revoked and leaked tokens vanish from the API; expired ones stay visible."""
        return self.revoked_at is None and self.leaked_at is None

    def is_expired(self, now: int) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    @property
    def inactivity_expires_at(self) -> int | None:
        """When it stops authenticating unless used before (activeAt + the limit)."""
        return None if self.inactivity_ms is None else self.active_at + self.inactivity_ms

    def is_inactive(self, now: int) -> bool:
        """Unused for as long as its inactivity limit allows: expired by disuse."""
        return self.inactivity_ms is not None and now >= self.active_at + self.inactivity_ms

    def is_live(self, now: int) -> bool:
        return self.is_listed and not self.is_expired(now)

    def ensure_live(self, now: int) -> None:
        """Raise the precise reason this token cannot authenticate, if any."""
        if self.leaked_at is not None:
            raise LeakedToken("The token was reported leaked and has been revoked.")
        if self.revoked_at is not None:
            raise RevokedToken("The token has been revoked.")
        if self.is_expired(now):
            raise ExpiredToken("The token has expired.")
        if self.inactivity_ms is not None and now >= self.active_at + self.inactivity_ms:
            raise InactiveToken(
                f"The token has expired after {in_words(self.inactivity_ms)} without use."
            )

    def successor_expiry(self, now: int) -> int | None:
        """When a token rotated at ``now`` into this one's successor expires: after the
        same lifetime length, counted from now, but never after `MAX_TIMESTAMP_MS`."""
        if self.expires_at is None:
            return None
        return min(now + (self.expires_at - self.created_at), MAX_TIMESTAMP_MS)

    def needs_activity_update(self, now: int, resolution_ms: int) -> bool:
        return now - self.active_at >= resolution_ms


def validate_name(name: str) -> str:
    if not name.strip():
        raise ValidationFailed("The token name must not be empty.")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationFailed(f"The token name must be at most {NAME_MAX_LENGTH} characters.")
    if has_control_characters(name):
        raise ValidationFailed("The token name must not contain control characters.")
    return name


def validate_expiry(expires_at: int | None, now: int) -> int | None:
    if expires_at is None:
        return None
    if expires_at <= now:
        raise ValidationFailed("expiresAt must be in the future (milliseconds since the epoch).")
    if expires_at > MAX_TIMESTAMP_MS:
        raise ValidationFailed("expiresAt is too far in the future (after the year 9999).")
    return expires_at


def validate_project_id(project_id: str | None) -> str | None:
    if project_id is None:
        return None
    if (
        not project_id
        or len(project_id) > PROJECT_ID_MAX_LENGTH
        or has_control_characters(project_id)
    ):
        raise ValidationFailed(
            f"projectId must be 1-{PROJECT_ID_MAX_LENGTH} characters, none of them control "
            "characters."
        )
    return project_id


def leaked_url(url: str | None) -> str | None:
    """A reported leak's URL as it is recorded: never refused (the token must be
    revoked whatever the report says of where), made storable instead."""
    return None if url is None else storable(url, LEAKED_URL_MAX_LENGTH)


def validate_overlap(overlap_ms: int | None) -> int | None:
    """How long a rotated token keeps working beside its successor: 1 ms to 24 hours."""
    if overlap_ms is not None and not 0 < overlap_ms <= MAX_OVERLAP_MS:
        raise ValidationFailed(
            f"overlapMs must be more than 0 and at most {MAX_OVERLAP_MS} (24 hours)."
        )
    return overlap_ms
