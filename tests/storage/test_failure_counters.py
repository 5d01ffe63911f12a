"""The failure counters: in-process, and in the local Redis (shared, or falling back to
in-process while Redis is unreachable)."""

import contextlib
import logging
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from tests.support import IN_CI, REDIS_URL, eventually, free_port, redis_prefix
from tokend.service.ports import FailureCount
from tokend.storage.failure_counters import InProcessFailureCounter, RedisFailureCounter

NOW = 1_800_000_000_000
WINDOW_MS = 60_000
UNREACHABLE = "redis://127.0.0.1:1/0"


def test_in_process_windows_open_at_the_first_failure() -> None:
    counter = InProcessFailureCounter()
    assert counter.add("a", NOW, WINDOW_MS) == FailureCount(1, NOW + WINDOW_MS)
    assert counter.add("a", NOW + 59_999, WINDOW_MS) == FailureCount(2, NOW + WINDOW_MS)
    assert counter.add("b", NOW + 1, WINDOW_MS) == FailureCount(1, NOW + 1 + WINDOW_MS)
    assert counter.add("a", NOW + WINDOW_MS, WINDOW_MS) == FailureCount(1, NOW + 2 * WINDOW_MS)


def test_in_process_forgets_ended_windows() -> None:
    counter = InProcessFailureCounter()
    for index in range(100):
        counter.add(f"10.0.0.{index}", NOW, WINDOW_MS)
    counter.add("a", NOW + 2 * WINDOW_MS, WINDOW_MS)
    assert set(counter._windows) == {"a"}


@pytest.fixture
def prefix() -> Iterator[str]:
    with redis_prefix() as prefix:
        yield prefix


@pytest.fixture
def shared(prefix: str) -> Iterator[RedisFailureCounter]:
    counter = RedisFailureCounter.from_url(REDIS_URL, prefix=prefix)
    yield counter
    counter.close()


def test_redis_counts_are_shared_between_counters(shared: RedisFailureCounter, prefix: str) -> None:
    other = RedisFailureCounter.from_url(REDIS_URL, prefix=prefix)
    try:
        now = time.time_ns() // 1_000_000
        assert shared.add("192.0.2.1", now, WINDOW_MS).failures == 1
        second = other.add("192.0.2.1", now + 5, WINDOW_MS)
        assert second.failures == 2
        # The window is Redis's, opened by the first failure, whichever node sees it.
        assert now + WINDOW_MS - 50 <= second.window_ends <= now + 5 + WINDOW_MS
        assert other.add("192.0.2.2", now, WINDOW_MS).failures == 1
    finally:
        other.close()


def test_redis_keys_hold_the_address_only_and_expire(
    shared: RedisFailureCounter, prefix: str
) -> None:
    shared.add("2001:db8::1", time.time_ns() // 1_000_000, 2_000)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        (key,) = client.keys(f"{prefix}*")
        assert key == f"{prefix}auth-failures:2001:db8::1".encode()
        assert 0 < client.pttl(key) <= 2_000
    finally:
        client.close()


def test_redis_window_ends_and_a_new_one_opens(shared: RedisFailureCounter) -> None:
    now = time.time_ns() // 1_000_000
    for _ in range(3):
        shared.add("192.0.2.3", now, 200)
    time.sleep(0.3)
    assert shared.add("192.0.2.3", now + 300, 200).failures == 1


def test_unreachable_redis_counts_in_process_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    counter = RedisFailureCounter.from_url(UNREACHABLE, prefix="tokend-test:")
    try:
        with caplog.at_level(logging.WARNING, logger="tokend"):
            counts = [counter.add("192.0.2.4", NOW, WINDOW_MS).failures for _ in range(3)]
            # Tried again after a while, still down: no second warning.
            assert counter.add("192.0.2.4", NOW + 10_000, WINDOW_MS).failures == 4
    finally:
        counter.close()
    assert counts == [1, 2, 3]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Redis unreachable (ConnectionError)" in warnings[0]
    assert "127.0.0.1:1" not in warnings[0]  # nor any other part of the URL


@contextlib.contextmanager
def private_redis(port: int) -> Iterator[None]:
    """A Redis server of this test's own, which it may stop (never the shared one)."""
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        client = redis.Redis(port=port)
        assert eventually(lambda: _answers(client)), "redis-server did not start"
        client.close()
        yield
    finally:
        process.terminate()
        process.wait(10)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_redis_is_used_again_once_it_answers(caplog: pytest.LogCaptureFixture) -> None:
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    counter = RedisFailureCounter.from_url(f"redis://127.0.0.1:{port}/0", prefix="t:")
    try:
        with private_redis(port):
            assert counter.add("192.0.2.5", NOW, WINDOW_MS).failures == 1
        # Redis is gone: counted in-process, from zero.
        assert counter.add("192.0.2.5", NOW + 1, WINDOW_MS).failures == 1
        with private_redis(port), caplog.at_level(logging.INFO, logger="tokend"):
            # Within the pause after a failure the fallback still counts ...
            assert counter.add("192.0.2.5", NOW + 2, WINDOW_MS).failures == 2
            # ... then Redis (a new, empty one) is asked again.
            assert counter.add("192.0.2.5", NOW + 5_001, WINDOW_MS).failures == 1
        assert "Redis answers again" in caplog.text
    finally:
        counter.close()
