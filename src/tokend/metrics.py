"""Prometheus metrics: counters bumped off the hot path (a cache hit counts nothing,
as a lock per request would cost a visible share of it), read at ``GET /metrics``.

With several workers, `tokend serve` gives them one ``PROMETHEUS_MULTIPROC_DIR`` so
that a scrape, whichever worker answers it, sums them all. No label ever holds a
secret, a token id or an address.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# A "_created" timestamp per counter doubles the output and tells an operator nothing.
disable_created_metrics()  # type: ignore[no-untyped-call]

TOKEN_EVENTS = Counter(
    "tokend_token_events", "Token lifecycle events written to the audit log.", ["type"]
)
AUTHENTICATION_FAILURES = Counter(
    "tokend_authentication_failures", "Requests whose token did not verify.", ["reason"]
)
CACHE_MISSES = Counter(
    "tokend_verification_cache_misses", "Verifications that had to read the database."
)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    registry = REGISTRY
    if MULTIPROCESS_VARIABLE in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST


@contextmanager
def shared_between_workers(workers: int) -> Iterator[None]:
    """For the block, a fresh folder where worker processes started in it keep their
    counts (prometheus_client's multiprocess mode); removed afterwards."""
    if workers == 1 or MULTIPROCESS_VARIABLE in os.environ:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="tokend-metrics-") as folder:
        # Read by each worker when it imports prometheus_client: workers are spawned,
        # so they start after this is set.
        os.environ[MULTIPROCESS_VARIABLE] = folder
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_VARIABLE]
