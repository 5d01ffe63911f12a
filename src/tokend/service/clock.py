"""Wall-clock time in integer milliseconds, the unit of every timestamp in the API."""

import time
from collections.abc import Callable

Clock = Callable[[], int]


def system_clock() -> int:
    return time.time_ns() // 1_000_000
