"""Running uvicorn on a socket bound beforehand, and knowing whether it started.

uvicorn.run is not used: it exits 0 when every worker failed to start (so a
supervisor would not restart tokend), and restarts forever a worker whose app
factory raises.
"""

import multiprocessing
import os
import signal
import socket
import threading

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess


class StartupFailed(Exception):
    """The server, or one of its workers, never started serving."""


def run(config: uvicorn.Config, listener: socket.socket) -> None:
    """Serve until told to stop; raise StartupFailed if it never started."""
    if config.workers > 1:
        supervisor = Workers(config, sockets=[listener])
        supervisor.run()
        if supervisor.failed_to_start or any(
            process.exitcode == STARTUP_FAILURE for process in supervisor.processes
        ):
            raise StartupFailed("the workers could not start (the reason is logged above)")
        return
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:
        return
    except SystemExit as exc:  # uvicorn's way out of a failed start-up (status 3)
        if exc.code != STARTUP_FAILURE:
            raise
    except Exception as exc:  # the app factory itself raised; uvicorn logs nothing
        lines = str(exc).strip().splitlines()
        detail = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
        raise StartupFailed(f"the server could not start: {detail}") from exc
    if not server.started:
        raise StartupFailed("the server could not start (the reason is logged above)")


class Workers(Multiprocess):
    """uvicorn's supervisor, which also gives up when a worker dies before it ever
    served (uvicorn gives up only on exit status 3, and restarts the others forever)."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.failed_to_start = False
        self._served: set[int | None] = set()

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for process in self.processes:
            if process.pid in self._served:
                continue
            if not process.process.is_alive():
                self.failed_to_start = True
                self.should_exit.set()
                return
            if process.is_ready(timeout=0.2):
                self._served.add(process.pid)
        super().keep_subprocess_alive()


def stop_with_supervisor() -> None:
    """In a worker process: stop gracefully (SIGTERM to itself, so pending activeAt
    writes are flushed) when the supervisor that started it dies. A supervisor killed
    with SIGKILL cannot stop its workers, and orphans would keep the port and serve
    on unsupervised, so `tokend serve` could not be restarted."""
    parent = multiprocessing.parent_process()
    if parent is None:  # not a worker: a single-process serve, or an embedding
        return

    def watch() -> None:
        parent.join()  # returns when the supervisor's end of the pipe closes: it died
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="tokend-supervisor-watch", daemon=True).start()
