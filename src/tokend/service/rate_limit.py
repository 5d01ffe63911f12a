"""Failed authentications per client address: over the limit, the address is refused
until its window ends, without its token being looked at, so guessing stops.

Only failures reach the counter (Redis, when configured). Every other request costs
one dict look-up: each process keeps the blocks it has seen in `_blocked`, whether
its own count or the shared one went over the limit.
"""

import threading
from collections.abc import Callable

from tokend.domain.errors import RateLimited
from tokend.service.clock import Clock, system_clock
from tokend.service.ports import FailureCounter


def _ignore(_address: str) -> None:
    pass


class RateLimiter:
    def __init__(
        self,
        counter: FailureCounter,
        *,
        limit: int,
        window_s: int,
        clock: Clock = system_clock,
        on_block: Callable[[str], None] = _ignore,
    ) -> None:
        """``limit``: failures allowed per address per window (0: no limit).
        ``on_block(address)``: called once when an address becomes blocked in this
        process, from the thread that counted the failure."""
        self.limit = limit
        self.enabled = limit > 0
        self._counter = counter
        self._window_ms = window_s * 1000
        self._clock = clock
        self._on_block = on_block
        self._blocked: dict[str, int] = {}  # address -> when its block ends, ms
        self._refusals: dict[tuple[str, str], int] = {}  # (address, token id) -> block end
        self._lock = threading.Lock()  # for writers; readers take a plain look-up
        self._sweep_at = 0

    def check(self, address: str) -> None:
        """Raises `RateLimited` while the address is blocked."""
        until = self._blocked.get(address)
        if until is not None:
            now = self._clock()
            if now < until:
                raise self._limited(until, now)

    def blocks(self, address: str) -> bool:
        """`check` as a yes or no, for code that passes a blocked request on."""
        until = self._blocked.get(address)
        return until is not None and self._clock() < until

    def record_failure(self, address: str) -> None:
        """Count a failed authentication; raises `RateLimited` when it is one too many."""
        if not self.enabled:
            return
        now = self._clock()
        failures, window_ends = self._counter.add(address, now, self._window_ms)
        if failures <= self.limit:
            return
        if self._block(address, window_ends, now):
            self._on_block(address)
        raise self._limited(window_ends, now)

    def first_refusal(self, address: str, token_id: str) -> bool:
        """Whether this is the first time in the address's current block that this
        token is refused (its user hears of the block once, not per request)."""
        until = self._blocked.get(address, 0)
        with self._lock:
            if self._refusals.get((address, token_id)) == until:
                return False
            self._refusals[(address, token_id)] = until
            return True

    def close(self) -> None:
        self._counter.close()

    def _block(self, address: str, until: int, now: int) -> bool:
        """Block ``address`` until ``until``; whether it was not blocked already."""
        with self._lock:
            if now >= self._sweep_at:
                # Ended blocks are dropped once a window, which bounds the table by the
                # addresses blocked within about two windows.
                self._blocked = {a: end for a, end in self._blocked.items() if end > now}
                self._refusals = {k: end for k, end in self._refusals.items() if end > now}
                self._sweep_at = now + self._window_ms
            newly = self._blocked.get(address, 0) <= now
            self._blocked[address] = until
            return newly

    def _limited(self, until: int, now: int) -> RateLimited:
        # Rounded up: a client that waits Retry-After seconds finds the window over.
        retry_after_s = max(1, -(-(until - now) // 1000))
        return RateLimited(limit=self.limit, reset_ms=until, retry_after_s=retry_after_s)
