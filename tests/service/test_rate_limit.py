"""The failed-authentication limit on a stopped clock, counting in-process."""

import pytest

from tokend.domain.errors import RateLimited
from tokend.service.rate_limit import RateLimiter
from tokend.storage.failure_counters import InProcessFailureCounter

NOW = 1_800_000_000_000
ADDRESS = "192.0.2.7"


class StoppedClock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> StoppedClock:
    return StoppedClock()


@pytest.fixture
def blocked() -> list[str]:
    return []


@pytest.fixture
def limiter(clock: StoppedClock, blocked: list[str]) -> RateLimiter:
    return RateLimiter(
        InProcessFailureCounter(), limit=3, window_s=60, clock=clock, on_block=blocked.append
    )


def fail(limiter: RateLimiter, times: int, address: str = ADDRESS) -> None:
    for _ in range(times):
        limiter.record_failure(address)


def test_failures_up_to_the_limit_are_allowed(limiter: RateLimiter) -> None:
    fail(limiter, 3)
    limiter.check(ADDRESS)
    assert not limiter.blocks(ADDRESS)


def test_the_failure_over_the_limit_is_refused_with_the_figures(
    limiter: RateLimiter, clock: StoppedClock
) -> None:
    fail(limiter, 2)
    clock.now += 10_500  # the window opened at the first failure
    limiter.record_failure(ADDRESS)
    with pytest.raises(RateLimited) as over:
        limiter.record_failure(ADDRESS)
    assert (over.value.limit, over.value.reset_ms) == (3, NOW + 60_000)
    assert over.value.retry_after_s == 50  # 49.5 s, rounded up
    assert "50 seconds" in str(over.value)


def test_a_blocked_address_is_refused_until_its_window_ends(
    limiter: RateLimiter, clock: StoppedClock
) -> None:
    fail(limiter, 3)
    with pytest.raises(RateLimited):
        limiter.record_failure(ADDRESS)
    clock.now = NOW + 59_999
    with pytest.raises(RateLimited) as still:
        limiter.check(ADDRESS)
    assert still.value.retry_after_s == 1  # never 0, though 1 ms is left
    assert limiter.blocks(ADDRESS)
    clock.now = NOW + 60_000
    limiter.check(ADDRESS)
    assert not limiter.blocks(ADDRESS)
    fail(limiter, 3)  # a new window, a new allowance


def test_addresses_are_counted_apart(limiter: RateLimiter) -> None:
    fail(limiter, 3)
    fail(limiter, 3, "2001:db8::1")
    with pytest.raises(RateLimited):
        limiter.record_failure(ADDRESS)
    limiter.check("2001:db8::1")
    limiter.check("198.51.100.1")


def test_on_block_is_told_once_per_window(
    limiter: RateLimiter, clock: StoppedClock, blocked: list[str]
) -> None:
    fail(limiter, 3)
    for _ in range(3):  # requests in flight when the block began also fail
        with pytest.raises(RateLimited):
            limiter.record_failure(ADDRESS)
    assert blocked == [ADDRESS]
    clock.now += 60_000
    fail(limiter, 3)
    with pytest.raises(RateLimited):
        limiter.record_failure(ADDRESS)
    assert blocked == [ADDRESS, ADDRESS]


def test_a_limit_of_zero_counts_nothing(clock: StoppedClock) -> None:
    counter = InProcessFailureCounter()
    limiter = RateLimiter(counter, limit=0, window_s=60, clock=clock)
    assert not limiter.enabled
    fail(limiter, 100)
    limiter.check(ADDRESS)
    assert counter.add(ADDRESS, NOW, 60_000).failures == 1  # nothing was counted before


def test_ended_blocks_are_forgotten(limiter: RateLimiter, clock: StoppedClock) -> None:
    for index in range(100):
        fail(limiter, 3, f"10.0.0.{index}")
        with pytest.raises(RateLimited):
            limiter.record_failure(f"10.0.0.{index}")
    clock.now += 120_000
    fail(limiter, 3)
    with pytest.raises(RateLimited):
        limiter.record_failure(ADDRESS)
    assert limiter._blocked == {ADDRESS: clock.now + 60_000}
