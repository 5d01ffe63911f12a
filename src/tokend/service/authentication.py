"""Bearer secret to principal: shape, digest, cache, then format check and database.

The steps are split so the HTTP layer can answer a cache hit on the event loop and
send only a miss to a thread: `digest_of` and `cached` never do I/O, `load` does.

The full format check (alphabet, checksum) runs before every database look-up, so a
malformed secret never reaches the database. A cache hit skips it: a hit means the
secret's SHA-256 equals that of a stored token, which was well formed when made, so
the check could only pass; it would cost more than the rest of a hit together.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from tokend.domain.digest import Digester, Hash
from tokend.domain.errors import InactiveToken, MissingToken, UnknownToken
from tokend.domain.policy import NO_RULES, PolicyRules
from tokend.domain.principal import Principal
from tokend.domain.secret import SecretFormat
from tokend.metrics import CACHE_MISSES
from tokend.service.activity import ActivityRecorder
from tokend.service.cache import CacheEntry, VerificationCache
from tokend.service.clock import Clock, system_clock
from tokend.service.ports import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Authenticator:
    uow: UnitOfWorkFactory
    secret_format: SecretFormat
    digester: Digester
    cache: VerificationCache
    activity: ActivityRecorder
    clock: Clock = system_clock
    # The instance's lifecycle policy: its inactivity limit, merged with the team's
    # (read with the token), is checked at every verification, from the cache.
    policy: PolicyRules = NO_RULES
    # The secret's shape, read on every request: plain attributes, not properties.
    _length: int = field(init=False)
    _prefix: str = field(init=False)
    _hash: Callable[[bytes], Hash] = field(init=False)
    _peek: Callable[[bytes], CacheEntry | None] = field(init=False)
    # The clock in nanoseconds; the C function itself unless a test set another clock.
    _now_ns: Callable[[], int] = field(init=False)

    def __post_init__(self) -> None:
        clock = self.clock
        now_ns = time.time_ns if clock is system_clock else lambda: clock() * 1_000_000
        for name, value in (
            ("_length", self.secret_format.length),
            ("_prefix", self.secret_format.prefix),
            ("_hash", self.digester.hash),
            ("_peek", self.cache.peek),
            ("_now_ns", now_ns),
        ):
            object.__setattr__(self, name, value)

    def authenticate(self, secret: str | None) -> Principal:
        principal = self.hit(secret)
        if principal is not None:
            return principal
        digest = self.digest_of(secret)
        principal = self.cached(digest)
        return principal if principal is not None else self.load(secret or "", digest)

    def hit(self, secret: str | None) -> Principal | None:
        """The principal if the secret is a cached token with nothing due (no expiry,
        no activeAt write) while the feed is proven current; None for everything else,
        errors included, which `authenticate` then works out. Never raises, never does
        I/O."""
        # Written out rather than through digest_of (and SecretFormat.check_shape),
        # cached and Digester.digest: each Python-level call saved is a visible share
        # of a hit, otherwise a SHA-256, a dict look-up and one comparison.
        if secret and len(secret) == self._length and secret.startswith(self._prefix):
            entry = self._peek(self._hash(secret.encode()).digest())
            if entry is not None:
                now_ns = self._now_ns()
                # The second test: the revocation feed was heard from lately.
                if now_ns < entry.plain_until_ns and now_ns < self.cache.trusted_until_ns:
                    entry.used = True
                    return entry.principal
        return None

    def digest_of(self, secret: str | None) -> bytes:
        """The digest to look up; only the shape (length, prefix) is checked here, which
        bounds what gets hashed."""
        if not secret:
            raise MissingToken("Authentication required: send 'Authorization: Bearer <token>'.")
        return self.digester.digest(self.secret_format.check_shape(secret))

    def cached(self, digest: bytes) -> Principal | None:
        """The principal from the cache, checked live now; None when the database is needed."""
        now = self.clock()
        entry = self.cache.get(digest, now)
        if entry is None:
            if self.cache.is_known_unknown(digest, now):
                raise _unknown()
            return None
        if now >= entry.live_until:
            try:
                entry.principal.token.ensure_live(now)  # raises, with the precise reason
            except InactiveToken:
                if entry.loaded_at < entry.live_until:
                    # Unused here, but other nodes may have used it since it was read
                    # (their activeAt writes are in the database): read it again.
                    return None
                raise
        if now >= entry.active_due:
            return self._note_use(entry.principal, now, entry)
        return entry.principal

    def load(self, secret: str, digest: bytes) -> Principal:
        """A cache miss: check the format, look the digest up, cache what is found."""
        self.secret_format.check(secret)  # before the database, always
        CACHE_MISSES.inc()
        generation = self.cache.generation
        with self.uow(one_read=True) as uow:
            # An indexed equality look-up on a digest: the secret itself is never
            # compared, so there is no timing signal to leak about it.
            found = uow.tokens.get_with_owner(digest)
        now = self.clock()
        if found is None:
            self.cache.put_unknown(digest, now, generation)
            raise _unknown()
        token, user = found
        limit = self.policy.inactivity_ms(user.kind, token.inactivity_ms)
        if limit != token.inactivity_ms:  # the team's limit, as read, to the one in force
            token = replace(token, inactivity_ms=limit)
        principal = Principal(user=user, token=token)
        self.cache.put(principal, now, self.activity.resolution_ms, generation)
        token.ensure_live(now)
        if token.needs_activity_update(now, self.activity.resolution_ms):
            return self._note_use(principal, now, self.cache.get(digest, now))
        return principal

    def _note_use(self, principal: Principal, now: int, entry: CacheEntry | None) -> Principal:
        # The first use in a new activeAt window: noted for the batch writer, and the
        # cached copy moves on so the rest of the window is plain hits.
        self.activity.record(principal.token.id, now)
        principal = replace(principal, token=replace(principal.token, active_at=now))
        if entry is not None:
            self.cache.used_now(entry, principal, self.activity.resolution_ms)
        return principal


def _unknown() -> UnknownToken:
    return UnknownToken("The token is not valid.")
