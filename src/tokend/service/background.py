"""A daemon thread with a clean stop: what the revocation feed and the activeAt writer
run on in each serving process."""

import threading
from collections.abc import Callable


class BackgroundThread:
    def __init__(self, name: str, body: Callable[[threading.Event], None]) -> None:
        """``body(stopping)`` runs on the thread and returns once ``stopping`` is set."""
        self.name = name
        self._body = body
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._body, args=(self.stopping,), name=self.name, daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
