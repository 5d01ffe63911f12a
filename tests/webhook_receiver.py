"""A webhook receiver for tests (a real HTTP server in the test process), and a
`tokend serve` allowed to call it."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support import Server, free_port


class Receiver:
    """An HTTP server answering with ``status`` (or hanging), keeping what it got."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.status = 200
        self.hang = False
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                if receiver.hang:
                    time.sleep(15)
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def ids(self) -> list[str]:
        return [headers["webhook-id"] for headers, _ in self.received]


def open_server_process(database_url: str, log: Path) -> Server:
    """A server that may call 127.0.0.1 (plain http), retrying every second."""
    return Server(
        database_url=database_url,
        log_path=log,
        env={
            "TOKEND_RATE_LIMIT_FAILURES": "1000000000",
            "TOKEND_WEBHOOK_ALLOW_PRIVATE": "true",
            "TOKEND_WEBHOOK_RETRY_SCHEDULE": ",".join(["1s"] * 15),
        },
    )
