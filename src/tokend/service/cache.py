"""The verification cache: digest to principal, bounded, dropped on revocation.

Entries are keyed by digest, never by secret, so a memory dump shows no secret.
Tokens are cached whatever their state: revoked and expired are final states, so a
cached dead token answers as quickly as a live one and costs the database nothing.
Digests no token has are remembered too (briefly, in their own smaller LRU), so
one unknown secret sent again and again reaches the database once per interval.

Revocation is the one change that must reach every process at once: the revocation
feed calls `invalidate`. Anything else a principal holds (the user's name, email)
is refreshed after ``ttl_s``. A cache that follows a feed answers only while the feed
has recently proven it hears everything (`heard`): within ``trust_s`` of the proof.
Past that, the feed may be deaf without knowing it (a connection cut silently), so
every look-up goes to the database until the feed proves itself again.

A hit takes no lock: it is one dict look-up and a flag set (atomic under the GIL).
Eviction is CLOCK, an approximation of LRU: the hand passes over entries in insertion
order, sparing (and unmarking) those used since it last passed, so recently used
tokens stay while the cold ones go.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from tokend.domain.principal import Principal
from tokend.domain.tokens import Token

_FOREVER = 2**63
TRUST_S = 0.75  # with the feed's own delay, well within the 1 s a revocation may take


@dataclass(slots=True)
class CacheEntry:
    principal: Principal
    stale_at: int  # ms since the epoch: re-read from the database after this
    # When the token stops authenticating: its expiry or, sooner, the end of its
    # inactivity limit (activeAt + the limit); 0 if revoked or leaked.
    live_until: int
    active_due: int  # when the next use must move activeAt
    used: bool = False  # set by each hit; CLOCK spares used entries once
    # When the token was read from the database: an inactivity deadline that had
    # passed by then is final; one that passes later may not be (another node may
    # have used the token since).
    loaded_at: int = 0
    # Before this instant (in ns, the unit of the C clock) a hit is the whole answer:
    # one comparison on the hot path.
    plain_until_ns: int = 0

    def __post_init__(self) -> None:
        self.settle()

    def settle(self) -> None:
        """Recompute `plain_until_ns` after a deadline moved."""
        self.plain_until_ns = min(self.stale_at, self.live_until, self.active_due) * 1_000_000


class VerificationCache:
    def __init__(
        self,
        size: int,
        *,
        ttl_s: float = 300.0,
        negative_size: int | None = None,
        negative_ttl_s: float = 30.0,
        trust_s: float = TRUST_S,
    ) -> None:
        self.size = size
        self.trust_ns = round(trust_s * 1e9)
        # Wall-clock ns before which cached answers may be given. Forever until the
        # cache follows a feed (in-process tools, tests); then only after proofs.
        self.trusted_until_ns = _FOREVER
        self._follows_feed = False
        self.ttl_ms = round(ttl_s * 1000)
        self.negative_size = size // 4 + 1 if negative_size is None else negative_size
        self.negative_ttl_ms = round(negative_ttl_s * 1000)
        self._entries: OrderedDict[bytes, CacheEntry] = OrderedDict()
        self._unknown: OrderedDict[bytes, int] = OrderedDict()
        self._digest_by_id: dict[str, bytes] = {}
        self._lock = threading.Lock()
        # Bumped by every invalidation: a look-up that started before one may have read
        # the token before its revocation, so its result must not be cached.
        self._generation = 0
        # The entry as stored, stale or not, and not marked used: for the hot path,
        # which checks `CacheEntry.plain_until` itself and falls back to `get`. The
        # dict's own bound method, so a hit costs no Python-level call here.
        self.peek: Callable[[bytes], CacheEntry | None] = self._entries.get

    @property
    def enabled(self) -> bool:
        return self.size > 0

    @property
    def generation(self) -> int:
        return self._generation

    def __len__(self) -> int:
        return len(self._entries)

    def follow_feed(self) -> None:
        """Answer from now on only within ``trust_s`` of the feed's latest `heard`."""
        with self._lock:
            self._follows_feed = True
            self.trusted_until_ns = 0

    def heard(self, t_ns: int) -> None:
        """The feed has delivered every revocation committed before ``t_ns``."""
        until = t_ns + self.trust_ns
        if until > self.trusted_until_ns:
            self.trusted_until_ns = until

    def get(self, digest: bytes, now: int) -> CacheEntry | None:
        """The entry for ``digest``, or None on a miss (never cached, evicted, stale, or
        the feed not heard from lately)."""
        entry = self._entries.get(digest)
        if entry is None or entry.stale_at <= now or now * 1_000_000 >= self.trusted_until_ns:
            return None
        entry.used = True
        return entry

    def is_known_unknown(self, digest: bytes, now: int) -> bool:
        until = self._unknown.get(digest)
        return until is not None and until > now

    def put(self, principal: Principal, now: int, resolution_ms: int, generation: int) -> None:
        """Cache a principal loaded (at ``now``) while the cache was at ``generation``."""
        if not self.enabled:
            return
        token = principal.token
        dead = token.revoked_at is not None or token.leaked_at is not None
        entry = CacheEntry(
            principal=principal,
            stale_at=now + self.ttl_ms,
            live_until=0 if dead else _live_until(token),
            active_due=token.active_at + resolution_ms,
            loaded_at=now,
        )
        with self._lock:
            if generation != self._generation:
                return
            self._unknown.pop(token.digest, None)
            if token.digest not in self._entries:
                while len(self._entries) >= self.size:
                    self._evict_one()
            self._entries[token.digest] = entry
            self._digest_by_id[token.id] = token.digest

    def put_unknown(self, digest: bytes, now: int, generation: int) -> None:
        if not self.enabled or self.negative_size <= 0:
            return
        with self._lock:
            if generation != self._generation:
                return
            self._unknown[digest] = now + self.negative_ttl_ms
            self._unknown.move_to_end(digest)
            while len(self._unknown) > self.negative_size:
                self._unknown.popitem(last=False)

    def used_now(self, entry: CacheEntry, principal: Principal, resolution_ms: int) -> None:
        """activeAt moved: keep the newer principal, due again a window later."""
        entry.principal = principal
        entry.active_due = principal.token.active_at + resolution_ms
        if principal.token.inactivity_ms is not None and entry.live_until:
            entry.live_until = _live_until(principal.token)  # used: its limit restarts
        entry.settle()

    def invalidate(self, token_id: str) -> None:
        """Forget a token (it was revoked), wherever the revocation happened."""
        with self._lock:
            self._generation += 1
            digest = self._digest_by_id.pop(token_id, None)
            if digest is not None:
                self._entries.pop(digest, None)

    def clear(self) -> None:
        """Forget everything: revocations may have been missed (a lost feed connection).
        A followed feed must prove itself again before anything is answered."""
        with self._lock:
            if self._follows_feed:
                self.trusted_until_ns = 0
            self._generation += 1
            self._entries.clear()
            self._unknown.clear()
            self._digest_by_id.clear()

    def _evict_one(self) -> None:
        # CLOCK: the oldest entry goes unless used since the hand last passed; then it
        # is unmarked and moved behind the others, for the next pass to decide.
        while True:
            digest, entry = next(iter(self._entries.items()))
            if not entry.used:
                del self._entries[digest]
                self._digest_by_id.pop(entry.principal.token.id, None)
                return
            entry.used = False
            self._entries.move_to_end(digest)


def _live_until(token: Token) -> int:
    """When a live token stops authenticating: its expiry or the end of its inactivity
    limit, whichever comes first."""
    until = token.expires_at or _FOREVER
    idle_until = token.inactivity_expires_at
    return until if idle_until is None else min(until, idle_until)
