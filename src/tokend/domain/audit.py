"""The audit trail: what happened to a token, when, and from where."""

import ipaddress
from dataclasses import dataclass, replace
from enum import StrEnum

from tokend.domain.text import storable
from tokend.domain.tokens import Token

USER_AGENT_MAX_LENGTH = 512
IP_MAX_LENGTH = 64


class EventType(StrEnum):
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    TOKEN_ROTATED = "token.rotated"
    TOKEN_LEAKED = "token.leaked"
    TOKEN_EXPIRING = "token.expiring"
    TOKEN_EXPIRED = "token.expired"
    AUTH_RATE_LIMITED = "auth.rate_limited"
    SIGNED_IN = "auth.signed_in"
    SIGNED_IN_UPSTREAM = "auth.signed_in_upstream"
    SIGN_IN_FAILED = "auth.sign_in_failed"
    SIGNED_OUT = "auth.signed_out"
    SESSION_ENDED = "auth.session_ended"
    PASSWORD_CHANGED = "account.password_changed"
    INVITE_CREATED = "account.invite_created"
    INVITE_ACCEPTED = "account.invite_accepted"
    DEVICE_APPROVED = "device.approved"
    DEVICE_DENIED = "device.denied"
    OAUTH_CONSENTED = "oauth.consented"
    OAUTH_DENIED = "oauth.denied"
    OAUTH_CODE_EXCHANGED = "oauth.code_exchanged"
    OAUTH_CODE_REUSED = "oauth.code_reused"
    OAUTH_REFRESHED = "oauth.token_refreshed"
    OAUTH_REFRESH_REUSED = "oauth.refresh_token_reused"
    WEBHOOK_DISABLED = "webhook.disabled"


@dataclass(frozen=True, slots=True)
class Requester:
    """Where a request came from, as far as the server can tell: the client address
    (after trusted proxies) and the User-Agent it sent.

    Both may be chosen by the client (a trusted proxy passes on whatever
    ``X-Forwarded-For`` names), so they are normalised here: ``ip`` is an IP address
    in its canonical form or None, ``user_agent`` storable text of at most
    `USER_AGENT_MAX_LENGTH` characters."""

    ip: str | None = None
    user_agent: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "ip", _ip_address(self.ip))
        if self.user_agent is not None:
            object.__setattr__(self, "user_agent", storable(self.user_agent, USER_AGENT_MAX_LENGTH))


def _ip_address(value: str | None) -> str | None:
    if not value or len(value) > IP_MAX_LENGTH:
        return None
    try:
        address = str(ipaddress.ip_address(value))
    except ValueError:
        return None
    return address if len(address) <= IP_MAX_LENGTH else None


NOBODY = Requester()


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One entry. ``token`` is a snapshot of the token's metadata as it was right after
    the event (never its secret). ``actor_token_id`` is the token that made the
    request, when one did (a leak report or a rate-limit block has none)."""

    id: str
    type: EventType
    created_at: int
    user_id: str | None
    token_id: str | None
    token: Token | None
    actor_token_id: str | None
    requester: Requester
    # The acting token's team, when it is team-scoped (read with the event, not stored).
    actor_team_id: str | None = None

    def as_seen_from(self, team_id: str | None) -> "AuditEvent":
        """The event as a token scoped to ``team_id`` (None: the whole user) may read it.

        A team-scoped token reads its team's events, some of them made by its user's
        other tokens (a personal token creating a team token): which token acted, and
        from which address and User-Agent, belong to those tokens, so they are left
        out unless the acting token is scoped to the same team. Events no token made
        (a leak report) keep the reporter's address."""
        if team_id is None or self.actor_token_id is None or self.actor_team_id == team_id:
            return self
        return replace(self, actor_token_id=None, requester=NOBODY)
