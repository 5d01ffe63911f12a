"""A webhook receiver for tests (a real HTTP server in the test process), and a
`tokend serve` allowed to call it; fixtures for both (a plugin of tests/conftest.py)."""

import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.conftest import SIGNING_KEY_SECRET, Account
from tests.support import Server, database, free_port
from tokend.bootstrap import Services, bootstrap
from tokend.settings import Settings
from tokend.storage.migrate import upgrade


class Receiver:
    """An HTTP server answering with ``status`` (a 3xx redirects to /elsewhere) or
    hanging, keeping what it got and where (``paths``)."""

    def __init__(self, port: int | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.port = port or free_port()
        self.tls = tls  # https, with this server context
        self.status = 200
        self.hang = False
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.paths: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}/hook"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                receiver.paths.append(self.path)
                if receiver.hang:
                    time.sleep(15)
                self.send_response(receiver.status)
                if 300 <= receiver.status < 400:
                    self.send_header("location", "/elsewhere")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def ids(self) -> list[str]:
        return [headers["webhook-id"] for headers, _ in self.received]


def open_server_process(database_url: str, log: Path, **env: str) -> Server:
    """A server that may call 127.0.0.1 (plain http), retrying every second, sealing
    webhook secrets; ``env``: more settings."""
    return Server(
        database_url=database_url,
        log_path=log,
        env={
            "TOKEND_RATE_LIMIT_FAILURES": "1000000000",
            "TOKEND_WEBHOOK_ALLOW_PRIVATE": "true",
            "TOKEND_WEBHOOK_RETRY_SCHEDULE": ",".join(["1s"] * 15),
            "TOKEND_SIGNING_KEY_SECRET": SIGNING_KEY_SECRET,
            **env,
        },
    )


@dataclass
class Instance:
    """A tokend of its own: a fresh database, its services, a server on it."""

    url: str
    services: Services
    server: Server

    def user(self, prefix: str = "user") -> Account:
        username = f"{prefix}-{uuid.uuid4().hex[:10]}"
        created = self.services.admin.create_user(username)
        return Account(username, created.user.id, created.issued.secret, created.issued.token.id)


@contextmanager
def own_instance(backend: str, folder: Path, **env: str) -> Iterator[Instance]:
    """An instance whose database no other test's server sends from: the session's
    shared server refuses private addresses, and would take (and refuse) deliveries
    to this process's receivers if it shared their database."""
    with database(backend, folder) as url:
        services = bootstrap(
            Settings(database_url=url, signing_key_secret=SecretStr(SIGNING_KEY_SECRET))
        )
        try:
            upgrade(services.engine)
            with open_server_process(url, folder / "tokend.log", **env) as server:
                yield Instance(url, services, server)
        finally:
            services.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def webhook_instance(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    """A database of the test module's own, and a server on it that may call 127.0.0.1."""
    with own_instance(backend, tmp_path_factory.mktemp("webhooks")) as running:
        yield running
