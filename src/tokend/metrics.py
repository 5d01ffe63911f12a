"""Prometheus metrics: counters bumped off the hot path (a cache hit counts nothing,
as a lock per request would cost a visible share of it), read at ``GET /metrics``.

With several workers, `tokend serve` gives them one ``PROMETHEUS_MULTIPROC_DIR`` so
that a scrape, whichever worker answers it, sums them all. No label ever holds a
secret, a token id or an address.

That folder is removed when the server stops; one left behind by a server that could
not clean up (kill -9, a crash, a power cut) is removed by the next `tokend serve` on
the machine. A folder is in use while its lock file is locked: the server holds it
shared for its whole run, and so does each of its workers (which may outlive a
killed server), so only folders that nobody holds are swept away.
"""

import asyncio
import fcntl
import os
import shutil
import tempfile
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
FOLDER_PREFIX = "tokend-metrics-"
LOCK_NAME = ".tokend-lock"

# A "_created" timestamp per counter doubles the output and tells an operator nothing.
disable_created_metrics()  # type: ignore[no-untyped-call]

TOKEN_EVENTS = Counter(
    "tokend_token_events", "Token lifecycle events written to the audit log.", ["type"]
)
AUTHENTICATION_FAILURES = Counter(
    "tokend_authentication_failures", "Requests whose token did not verify.", ["reason"]
)
WEBHOOK_DELIVERIES = Counter(
    "tokend_webhook_deliveries",
    "Webhook delivery attempts by outcome: delivered, retrying (to be tried again), "
    "failed (given up).",
    ["outcome"],
)
# Set by each process's sender every few seconds; the live processes' largest wins.
WEBHOOK_OUTBOX_DEPTH = Gauge(
    "tokend_webhook_outbox_depth",
    "Webhook deliveries pending.",
    multiprocess_mode="livemax",
)
WEBHOOK_OLDEST_PENDING_AGE = Gauge(
    "tokend_webhook_oldest_pending_age_seconds",
    "Age of the oldest pending webhook delivery (0 when none is pending).",
    multiprocess_mode="livemax",
)
CACHE_MISSES = Counter(
    "tokend_verification_cache_misses", "Verifications that had to read the database."
)
# From a cached GET /v2/user (a tenth of a millisecond) to a request that waited for
# the database's timeout (5 s by default).
LATENCY_BUCKETS_S = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0
)  # fmt: skip
REQUEST_DURATION = Histogram(
    "tokend_http_request_duration_seconds",
    "Time from a request's arrival at the app to the end of its answer, by route template "
    "(unmatched for paths no route serves), method and status.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS_S,
)
FLUSH_INTERVAL_S = 1.0


class Series:
    """One histogram series' observations since its last flush."""

    __slots__ = ("child", "counts", "dirty", "total_ns")

    def __init__(self, child: Histogram) -> None:
        self.child = child
        self.counts = [0] * (len(LATENCY_BUCKETS_S) + 1)  # the last one is +Inf
        self.total_ns = 0
        self.dirty = False


class RequestLatencies:
    """`REQUEST_DURATION`, counted in plain lists by the event loop's thread and
    added to the histogram at most once a second and before each scrape.

    A histogram's observe takes two locks per request, and with several workers
    writes two memory-mapped files (3 µs, a few percent of a cached request): here a
    request costs a bucket search and two additions. Every method runs on the thread
    of the event loop that serves requests (the scrape's flush too), so none needs a
    lock.
    """

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, int], Series] = {}
        self._dirty: list[Series] = []
        self._bounds_ns = [round(bound * 1e9) for bound in LATENCY_BUCKETS_S]
        self._flush_due = False

    def series(self, route: str, method: str, status: int) -> Series:
        """The series of these labels (made on first use: the caller keeps it)."""
        key = (route, method, status)
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = Series(
                REQUEST_DURATION.labels(route=route, method=method, status=str(status))
            )
        return found

    def observe(self, series: Series, elapsed_ns: int) -> None:
        series.counts[bisect_left(self._bounds_ns, elapsed_ns)] += 1
        series.total_ns += elapsed_ns
        if not series.dirty:
            series.dirty = True
            self._dirty.append(series)
            if not self._flush_due:
                self._flush_due = True
                asyncio.get_running_loop().call_later(FLUSH_INTERVAL_S, self.flush)

    def flush(self) -> None:
        """Add what was observed since the last flush to the histogram."""
        self._flush_due = False
        dirty, self._dirty = self._dirty, []
        for series in dirty:
            # prometheus_client keeps a histogram's buckets uncumulated, one value each.
            buckets = series.child._buckets
            for index, count in enumerate(series.counts):
                if count:
                    buckets[index].inc(count)
                    series.counts[index] = 0
            series.child._sum.inc(series.total_ns / 1e9)
            series.total_ns = 0
            series.dirty = False


REQUEST_LATENCIES = RequestLatencies()


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type (flush
    `REQUEST_LATENCIES` first, on the event loop's thread)."""
    registry = REGISTRY
    if MULTIPROCESS_VARIABLE in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST


@contextmanager
def shared_between_workers(workers: int) -> Iterator[None]:
    """For the block, a fresh folder where worker processes started in it keep their
    counts (prometheus_client's multiprocess mode); removed afterwards. Folders that
    earlier servers left behind are removed first."""
    sweep_stale_folders()
    if workers == 1 or MULTIPROCESS_VARIABLE in os.environ:
        yield
        return
    folder = tempfile.mkdtemp(prefix=FOLDER_PREFIX)
    # Locked before it takes its name, so a sweep never sees the folder's lock free.
    handle, unnamed = tempfile.mkstemp(dir=folder, prefix=".lock-")
    with os.fdopen(handle, "rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        os.rename(unnamed, os.path.join(folder, LOCK_NAME))
        # Read by each worker when it imports prometheus_client: workers are spawned,
        # so they start after this is set.
        os.environ[MULTIPROCESS_VARIABLE] = folder
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_VARIABLE]
            shutil.rmtree(folder, ignore_errors=True)


def sweep_stale_folders(parent: str | None = None) -> list[Path]:
    """Remove this user's metrics folders (in ``parent``, by default the temporary
    directory) whose lock nobody holds; returns those removed. Folders without a
    lock file (being made, or made by another program) are left alone."""
    removed = []
    for folder in Path(parent or tempfile.gettempdir()).glob(FOLDER_PREFIX + "*"):
        try:
            if folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
            lock = (folder / LOCK_NAME).open("rb")
        except OSError:
            continue
        with lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # held: a server or one of its workers still runs
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _hold_shared_folder() -> IO[bytes] | None:
    """In a worker of `tokend serve`: hold the folder's lock for as long as it runs."""
    folder = os.environ.get(MULTIPROCESS_VARIABLE)
    if not folder:
        return None
    try:
        lock = open(os.path.join(folder, LOCK_NAME), "rb")  # noqa: SIM115 (held until exit)
    except OSError:
        return None  # a folder tokend did not make
    fcntl.flock(lock, fcntl.LOCK_SH)
    return lock


_HELD = _hold_shared_folder()
