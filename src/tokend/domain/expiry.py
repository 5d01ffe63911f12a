"""Expiry warnings: which notice a token is due when its remaining life crosses the
thresholds (TOKEND_EXPIRY_WARNINGS), and what a notice says.

A notice is kept per (token, threshold) so that each is given once; threshold 0 is
the ``token.expired`` notice. When several thresholds are crossed at once (a token
made with 2 days to live, under 30d,7d,1d; or a scan after downtime), only the
smallest crossed is announced, and the larger ones are marked given with it: a
"7 days left" warning about a token with 2 days left would be wrong, and three
warnings at once are noise. Once a token has expired, only ``token.expired`` is
announced (its unsent warnings are marked given too).
"""

from dataclasses import dataclass

from tokend.domain.accounts import User
from tokend.domain.tokens import Token

EXPIRED = 0  # the threshold of the token.expired notice


def normalized(thresholds_ms: list[int]) -> tuple[int, ...]:
    """Distinct positive thresholds, largest first."""
    return tuple(sorted({t for t in thresholds_ms if t > 0}, reverse=True))


def crossed(thresholds_ms: tuple[int, ...], expires_at: int, now: int) -> tuple[int, ...]:
    """Every threshold (``EXPIRED`` included) the token's remaining life has crossed,
    smallest first: the first is the one to announce, all are to be marked given."""
    remaining = expires_at - now
    if remaining <= 0:
        return (EXPIRED, *sorted(thresholds_ms))
    return tuple(sorted(t for t in thresholds_ms if remaining <= t))


@dataclass(frozen=True, slots=True)
class ExpiryNotice:
    """A notice given (committed): what the email about it is made from."""

    token: Token
    user: User
    threshold_ms: int  # EXPIRED for token.expired
    at: int  # when it was given, ms since the epoch

    @property
    def expired(self) -> bool:
        return self.threshold_ms == EXPIRED

    @property
    def expires_at(self) -> int:
        assert self.token.expires_at is not None
        return self.token.expires_at


def emailable(address: str) -> bool:
    """Whether an account's address can receive mail: ``USERNAME@localhost`` is the
    placeholder tokend gives accounts made without an address (service accounts
    always), which no mail server delivers."""
    domain = address.rpartition("@")[2].lower()
    return bool(domain) and domain not in ("localhost", "localhost.localdomain")
