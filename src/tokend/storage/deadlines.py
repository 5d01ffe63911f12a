"""Deadlines on database sockets, enforced from outside the thread that waits.

psycopg waits on its socket with no time limit of its own, and a server that stops
answering without closing the connection (stopped with SIGSTOP, behind a frozen proxy
or a stateful firewall, across a partition) makes that wait last forever: TCP
keepalives are answered by kernels that are still alive, and server-side timeouts
need a server that runs. So whoever talks to the database registers the socket with
a deadline, and a watchdog thread shuts down any socket that overstays. The waiting
thread then wakes at once with a connection error (a 503 for a request), and
SQLAlchemy discards the connection.
"""

import contextlib
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator

logger = logging.getLogger(__name__)

TICK_S = 0.05


class SocketDeadlines:
    def __init__(self, tick_s: float = TICK_S) -> None:
        self._tick_s = tick_s
        self._watched: dict[int, tuple[float, int, str]] = {}  # key -> (deadline, fd, what)
        self._keys = itertools.count()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, fd: int, seconds: float, what: str) -> int:
        """Shut ``fd`` down unless `remove` is called within ``seconds``; returns the key
        for `remove`."""
        key = next(self._keys)
        with self._lock:
            self._watched[key] = (time.monotonic() + seconds, fd, what)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="tokend-db-deadlines", daemon=True
                )
                self._thread.start()
        return key

    def remove(self, key: int) -> None:
        with self._lock:
            self._watched.pop(key, None)

    @contextlib.contextmanager
    def watch(self, fd: int, seconds: float, what: str) -> Iterator[None]:
        key = self.add(fd, seconds, what)
        try:
            yield
        finally:
            self.remove(key)

    def _run(self) -> None:
        # Lives as long as the process: a daemon thread that mostly sleeps.
        while True:
            time.sleep(self._tick_s)
            now = time.monotonic()
            with self._lock:
                # Under the lock: a socket is shut down only while its owner still
                # holds it (removal takes the same lock), never after it was reused.
                for key, (deadline, fd, what) in list(self._watched.items()):
                    if now >= deadline:
                        del self._watched[key]
                        _shut_down(fd)
                        logger.warning(
                            "the database did not answer %s in time; connection closed", what
                        )


def _shut_down(fd: int) -> None:
    # shutdown() acts on the socket itself, so a duplicate descriptor is enough, and
    # the owner's descriptor stays valid (closed by its owner, as usual).
    with contextlib.suppress(OSError), socket.socket(fileno=os.dup(fd)) as duplicate:
        duplicate.shutdown(socket.SHUT_RDWR)


# One watchdog per process, for every engine and listener in it.
DEADLINES = SocketDeadlines()
