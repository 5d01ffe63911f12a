"""Invitations: a one-time link where a person chooses a password and is signed in."""

from dataclasses import dataclass

LIFETIME_MS = 72 * 3_600_000


@dataclass(frozen=True, slots=True)
class Invite:
    id: str
    digest: bytes
    user_id: str
    created_at: int
    expires_at: int
    used_at: int | None = None

    def is_usable(self, now: int) -> bool:
        return self.used_at is None and now < self.expires_at
