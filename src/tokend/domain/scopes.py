"""What a token may act on: its user, or one team of that user."""

from dataclasses import dataclass
from enum import StrEnum


class ScopeType(StrEnum):
    USER = "user"
    TEAM = "team"


# The values Vercel's clients accept for a scope's and a token's origin.
ORIGINS = frozenset(
    {
        "app", "apple", "bitbucket", "chatgpt", "email", "emu", "github", "github-webhook",
        "gitlab", "google", "invite", "manual", "otp", "passkey", "saml", "sms",
        "token-exchange-oidc",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Scope:
    type: ScopeType
    team_id: str | None = None

    def __post_init__(self) -> None:
        if (self.type is ScopeType.TEAM) != (self.team_id is not None):
            raise ValueError("a team scope needs a team id, and only a team scope has one")

    @classmethod
    def user(cls) -> "Scope":
        return cls(ScopeType.USER)

    @classmethod
    def team(cls, team_id: str) -> "Scope":
        return cls(ScopeType.TEAM, team_id)
