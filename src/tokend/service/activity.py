"""activeAt, written off the request path: uses are collected, then flushed in batches.

A request only notes "token X was used at T" in memory; a background thread writes
what has piled up every ``interval_s`` in one transaction, and `close` writes the
rest, so a graceful shutdown (SIGTERM) loses nothing. The write is conditional
(``active_at`` older than the window), so however many processes note the same
token, it is written at most once per token per window.
"""

import logging
import threading

from tokend.service.background import BackgroundThread
from tokend.service.ports import UnitOfWorkFactory

logger = logging.getLogger(__name__)


class ActivityRecorder:
    def __init__(
        self, uow: UnitOfWorkFactory, *, resolution_ms: int, interval_s: float = 1.0
    ) -> None:
        self._uow = uow
        self.resolution_ms = resolution_ms
        self.interval_s = interval_s
        self._pending: dict[str, int] = {}
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._thread = BackgroundThread("tokend-activity", self._run)

    def record(self, token_id: str, now: int) -> None:
        with self._lock:
            self._keep_latest(token_id, now)

    def _keep_latest(self, token_id: str, at: int) -> None:
        # Under self._lock.
        if self._pending.get(token_id, 0) < at:
            self._pending[token_id] = at

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> int:
        """Write every use noted so far; returns how many tokens were written."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, {}
            if not batch:
                return 0
            try:
                with self._uow(write=True) as uow:
                    written = uow.tokens.touch_many(batch, self.resolution_ms)
                    uow.commit()
            except Exception:
                # The database is away: keep the uses for the next try rather than lose them.
                with self._lock:
                    for token_id, at in batch.items():
                        self._keep_latest(token_id, at)
                raise
            return written

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and write what is left."""
        self._thread.stop()
        try:
            self.flush()
        except Exception:
            logger.exception("could not write the last activeAt updates")

    def _run(self, stopping: threading.Event) -> None:
        while not stopping.wait(self.interval_s):
            try:
                self.flush()
            except Exception:
                logger.exception("could not write activeAt updates; will retry")
