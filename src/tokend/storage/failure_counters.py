"""Failed-authentication counters: in this process's memory, or in Redis for every node.

Keys are client addresses only, never anything from the request's token.
"""

import logging
import threading
from typing import cast

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tokend.service.ports import FailureCount, FailureCounter

logger = logging.getLogger(__name__)

# INCR and the window's expiry in one step, so a key never outlives its window even
# when a client dies between the two; PTTL tells every node when the window ends.
_ADD = """
local failures = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {failures, ttl}
"""


class InProcessFailureCounter:
    """Counts of this process alone."""

    def __init__(self) -> None:
        self._windows: dict[str, list[int]] = {}  # address -> [failures, window ends]
        self._lock = threading.Lock()
        self._sweep_at = 0

    def add(self, address: str, now: int, window_ms: int) -> FailureCount:
        with self._lock:
            if now >= self._sweep_at:
                # Ended windows are dropped once a window, which bounds the table by the
                # addresses that failed within about two windows.
                self._windows = {a: w for a, w in self._windows.items() if w[1] > now}
                self._sweep_at = now + window_ms
            window = self._windows.get(address)
            if window is None or window[1] <= now:
                window = self._windows[address] = [0, now + window_ms]
            window[0] += 1
            return FailureCount(window[0], window[1])

    def close(self) -> None:
        pass


class RedisFailureCounter:
    """Counts shared by every process using the same Redis and key prefix.

    While Redis cannot be reached, failures are counted by ``fallback`` in this
    process (a warning is logged once per outage) and Redis is tried again every
    ``retry_ms``: the limit still holds per process, and only one failure per pause
    waits for a Redis that does not answer.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str,
        fallback: FailureCounter,
        retry_ms: int = 5000,
    ) -> None:
        self._client = client
        self._add = client.register_script(_ADD)
        self._prefix = prefix
        self._fallback = fallback
        self._retry_ms = retry_ms
        self._down_until: int | None = None  # None: Redis answered last time
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, *, prefix: str, timeout_s: float = 0.5) -> "RedisFailureCounter":
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout_s,
            socket_timeout=timeout_s,
            # One immediate retry, for a pooled connection that a Redis restart closed;
            # beyond that the fallback is the retry, and it keeps no request waiting.
            retry=Retry(NoBackoff(), 1),
        )
        return cls(client, prefix=prefix, fallback=InProcessFailureCounter())

    def add(self, address: str, now: int, window_ms: int) -> FailureCount:
        down_until = self._down_until
        if down_until is not None and now < down_until:
            return self._fallback.add(address, now, window_ms)
        try:
            reply = self._add(keys=[f"{self._prefix}auth-failures:{address}"], args=[window_ms])
        except redis.RedisError as exc:
            if self._went(down=True, until=now + self._retry_ms):
                logger.warning(
                    "Redis unreachable (%s): failed authentications are counted in this "
                    "process only until it answers",
                    type(exc).__name__,
                )
            return self._fallback.add(address, now, window_ms)
        if down_until is not None and self._went(down=False, until=None):
            logger.info("Redis answers again: failed authentications are counted there")
        failures, ttl_ms = cast(list[int], reply)
        return FailureCount(failures, now + ttl_ms)

    def _went(self, *, down: bool, until: int | None) -> bool:
        """Record Redis's state; whether it changed, so each change is logged once
        however many threads see it."""
        with self._lock:
            changed = (self._down_until is None) == down
            self._down_until = until
            return changed

    def close(self) -> None:
        self._client.close()
        self._fallback.close()
