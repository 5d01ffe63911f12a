"""Lifecycle policy: how long a token may live, whether it must expire, and how long
it may go unused.

An instance has one policy (settings) and each team may have its own; a team token
obeys the stricter of the two, field by field. Service accounts are exempt unless the
operator says otherwise. A policy bounds tokens as they are issued and as they
authenticate; it never rewrites a stored token, so tightening it shortens no
existing token's `expiresAt` (the inactivity limit, which is not stored on the token,
does apply to every token from the moment it is set).
"""

from dataclasses import dataclass

from tokend.domain.accounts import AccountKind
from tokend.domain.durations import in_words
from tokend.domain.errors import ValidationFailed
from tokend.domain.tokens import MAX_TIMESTAMP_MS

# The lifetime of a token issued where nobody could be asked for an expiry (a device
# login, an operator's bootstrap token) when the policy requires one and sets no
# maximum lifetime.
UNASKED_LIFETIME_MS = 90 * 86_400_000


@dataclass(frozen=True, slots=True)
class Policy:
    max_lifetime_ms: int | None = None  # None: no limit
    inactivity_ms: int | None = None  # None: tokens never expire from disuse
    require_expiry: bool = False

    def __bool__(self) -> bool:
        return self != NO_POLICY

    def expiry_for_new_token(
        self, expires_at: int | None, now: int, *, chosen: bool = True
    ) -> int | None:
        """The ``expiresAt`` a token issued at ``now`` gets when ``expires_at`` was
        wanted. ``chosen``: a person chose it (create), so one beyond the limit is
        refused; otherwise (rotation, device login, OAuth) it is cut to the limit."""
        limit = self.max_lifetime_ms
        if limit is not None:
            latest = min(now + limit, MAX_TIMESTAMP_MS)
            if expires_at is None:
                return latest
            if expires_at > latest:
                if chosen:
                    raise ValidationFailed(
                        f"expiresAt is beyond the maximum token lifetime of {in_words(limit)}: "
                        f"choose an expiry at most {in_words(limit)} from now, or none to "
                        "get that limit."
                    )
                return latest
            return expires_at
        if expires_at is None and self.require_expiry:
            if chosen:
                raise ValidationFailed(
                    "expiresAt is required: the policy requires tokens to expire."
                )
            return min(now + UNASKED_LIFETIME_MS, MAX_TIMESTAMP_MS)
        return expires_at


NO_POLICY = Policy()


def _min(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def stricter(a: Policy, b: Policy | None) -> Policy:
    """Each field from whichever policy is stricter: the shorter limit, and an expiry
    required if either requires one."""
    if b is None:
        return a
    return Policy(
        max_lifetime_ms=_min(a.max_lifetime_ms, b.max_lifetime_ms),
        inactivity_ms=_min(a.inactivity_ms, b.inactivity_ms),
        require_expiry=a.require_expiry or b.require_expiry,
    )


@dataclass(frozen=True, slots=True)
class PolicyRules:
    """The instance's policy and whom it binds: the settings' part of every decision."""

    instance: Policy = NO_POLICY
    applies_to_services: bool = False

    def effective(self, kind: AccountKind, team: Policy | None = None) -> Policy:
        """The policy a token of an account of ``kind`` obeys; ``team``: its team's own
        policy, for a team token."""
        if kind is AccountKind.SERVICE and not self.applies_to_services:
            return NO_POLICY
        return stricter(self.instance, team)

    def inactivity_ms(self, kind: AccountKind, team_inactivity_ms: int | None) -> int | None:
        """`effective` for verification, where only the inactivity limit matters."""
        if kind is AccountKind.SERVICE and not self.applies_to_services:
            return None
        return _min(self.instance.inactivity_ms, team_inactivity_ms)


NO_RULES = PolicyRules()  # no instance policy: only teams' own apply
