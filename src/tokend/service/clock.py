"""Wall-clock time in integer milliseconds, the unit of every timestamp in the API."""

import time
from collections.abc import Callable

Clock = Callable[[], int]


def system_clock() -> int:
    return time.time_ns() // 1_000_000


def seconds_until(end_ms: int, now_ms: int) -> int:
    """Whole seconds from now to ``end_ms``, rounded up and at least 1: a client that
    waits this long (Retry-After) finds the window over."""
    return max(1, -(-(end_ms - now_ms) // 1000))
