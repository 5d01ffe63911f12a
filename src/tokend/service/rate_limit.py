"""Failed authentications per client address: over the limit, the address's failing
requests are refused until its window ends. A request whose token is live is never
refused: with ~178 bits per secret a guess is no risk, while a lock-out would let one
client behind a NAT or proxy shut out everyone else there.

Only failures reach the counter (Redis, when configured), and a successful request
never comes here at all. A failure from an address already blocked costs one dict
look-up: each process keeps the blocks it has seen in `_blocked`, whether its own
count or the shared one went over the limit.
"""

import threading
from collections.abc import Callable

from tokend.domain.errors import RateLimited
from tokend.service.clock import Clock, seconds_until, system_clock
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

    def close(self) -> None:
        self._counter.close()

    def _block(self, address: str, until: int, now: int) -> bool:
        """Block ``address`` until ``until``; whether it was not blocked already."""
        with self._lock:
            if now >= self._sweep_at:
                # Ended blocks are dropped once a window, which bounds the table by the
                # addresses blocked within about two windows.
                self._blocked = {a: end for a, end in self._blocked.items() if end > now}
                self._sweep_at = now + self._window_ms
            newly = self._blocked.get(address, 0) <= now
            self._blocked[address] = until
            return newly

    def _limited(self, until: int, now: int) -> RateLimited:
        return RateLimited(
            limit=self.limit, reset_ms=until, retry_after_s=seconds_until(until, now)
        )
