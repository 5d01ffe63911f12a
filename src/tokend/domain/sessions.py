"""Browser sessions: a random secret in a cookie, only its digest at rest, ended by
idleness, age, signing out or a password change."""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from tokend.domain.audit import Requester

SECRET_BYTES = 32
# How often a session's last-seen time is written: not on every page.
SEEN_RESOLUTION_MS = 60_000


@dataclass(frozen=True, slots=True)
class Session:
    id: str  # public, to list and end it; never the cookie's secret
    digest: bytes
    user_id: str
    created_at: int
    seen_at: int
    requester: Requester

    def ends_at(self, idle_ms: int, absolute_ms: int) -> int:
        return min(self.seen_at + idle_ms, self.created_at + absolute_ms)

    def is_live(self, now: int, idle_ms: int, absolute_ms: int) -> bool:
        return now < self.ends_at(idle_ms, absolute_ms)

    def needs_seen_update(self, now: int) -> bool:
        return now - self.seen_at >= SEEN_RESOLUTION_MS


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def csrf_token(session_secret: str) -> str:
    """The CSRF token of a session: derived from the cookie's secret, which a page on
    another site cannot read, so nothing more is stored and it renews with the session."""
    mac = hmac.new(session_secret.encode(), b"tokend csrf v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def csrf_matches(session_secret: str, candidate: str | None) -> bool:
    if not candidate:
        return False
    return hmac.compare_digest(csrf_token(session_secret).encode(), candidate.encode())
