"""The audit trail: what happened to a token, when, and from where."""

from dataclasses import dataclass
from enum import StrEnum

from tokend.domain.tokens import Token

USER_AGENT_MAX_LENGTH = 512


class EventType(StrEnum):
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    TOKEN_ROTATED = "token.rotated"
    TOKEN_LEAKED = "token.leaked"
    AUTH_RATE_LIMITED = "auth.rate_limited"


@dataclass(frozen=True, slots=True)
class Requester:
    """Where a request came from, as far as the server can tell: the client address
    (after trusted proxies) and the User-Agent it sent."""

    ip: str | None = None
    user_agent: str | None = None

    def __post_init__(self) -> None:
        # Clients choose their User-Agent: a bounded one cannot bloat the audit log.
        if self.user_agent is not None and len(self.user_agent) > USER_AGENT_MAX_LENGTH:
            object.__setattr__(self, "user_agent", self.user_agent[:USER_AGENT_MAX_LENGTH])


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
