"""uvicorn's HTTP protocol (httptools), answering in tokend's JSON error shape and
bounding what a client without a token can make a worker hold.

Requests that are not valid HTTP (an unknown method, a NUL in a header, a
non-numeric Content-Length) are refused here, before the app sees them; stock
uvicorn answers those in plain text. Stock uvicorn also reads a request head of any
size for as long as the client takes to send it, and keeps every connection it is
given: one attacker could fill a worker's memory, or its open files, without a token.
So, before the app sees anything:

- the request target and header names and values together are at most
  ``max_head_bytes``; past that the answer is 431 and the connection is closed;
- a connection must complete its request head within ``head_timeout_s`` of being
  opened, or of the end of its previous response (which also closes idle keep-alive
  connections: this replaces uvicorn's keep-alive timer);
- above ``max_connections`` open connections in a worker, the oldest ones that are
  still waiting for a request head are closed to make room for the newcomer.
"""

import asyncio
import json
import resource
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from tokend.http.log_format import route_strays_to_logging
from tokend.http.request_id import PEER_KEY

# Files a worker needs besides its connections: database pool, LISTEN connection,
# Redis, logs, metrics files. Connections beyond the open-file limit minus these would
# make accept() fail, and then every new client waits, the innocent ones too.
RESERVED_FILES = 128
# After an error answer the client may still be sending (a 10 MB header): its bytes
# are read and dropped for up to this long, else closing with unread data sends a
# reset that can destroy the answer before the client reads it.
LINGER_S = 2.0


@dataclass(frozen=True)
class HttpLimits:
    max_head_bytes: int = 8192
    head_timeout_s: float = 5.0
    max_connections: int = 4096


class ServeConfig(Config):
    """uvicorn's Config carrying tokend's HTTP limits and log format to every worker
    (it is pickled into each of them)."""

    def __init__(
        self, app: Any, *, http_limits: HttpLimits, log_format: str = "text", **kwargs: Any
    ) -> None:
        # Before uvicorn's __init__, which sets up logging.
        self.log_format = log_format
        super().__init__(app, **kwargs)
        self.http_limits = http_limits

    def configure_logging(self) -> None:
        # Run by the server and again by each worker it spawns.
        super().configure_logging()
        if self.log_format == "json":
            route_strays_to_logging()

    def load(self) -> None:
        super().load()
        if self.proxy_headers:
            # Outside uvicorn's X-Forwarded-For middleware, which replaces the client's
            # address: whether X-Request-Id comes from a trusted proxy is a question
            # about the connection's own peer.
            self.loaded_app = _KeepPeer(self.loaded_app)


class _KeepPeer:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        scope[PEER_KEY] = scope.get("client")
        await self.app(scope, receive, send)


def open_file_limit() -> int:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


class _HeadTooLarge(Exception):
    """Raised in a parser callback to stop the parser; `data_received` answers 431."""


class _Guard:
    """One per worker: its connections waiting for a request head, oldest first."""

    def __init__(self, loop: asyncio.AbstractEventLoop, limits: HttpLimits) -> None:
        self.loop = loop
        self.limits = limits
        self.max_connections = max(
            1, min(limits.max_connections, open_file_limit() - RESERVED_FILES)
        )
        self.waiting: OrderedDict[JsonErrorHttpToolsProtocol, float] = OrderedDict()
        # One sweep a second rather than a timer per request: the hot path only moves
        # its connection in and out of `waiting`.
        self._interval = min(1.0, limits.head_timeout_s / 4)
        loop.call_later(self._interval, self._sweep)

    def _sweep(self) -> None:
        self.loop.call_later(self._interval, self._sweep)  # first: whatever happens below
        expired = self.loop.time() - self.limits.head_timeout_s
        waiting = self.waiting
        while waiting:
            connection, since = next(iter(waiting.items()))
            if since > expired:
                break
            del waiting[connection]
            connection.head_timed_out()

    def make_room(self, newcomer: "JsonErrorHttpToolsProtocol") -> None:
        # The oldest silent connection goes rather than the newcomer: an attacker's
        # connections are the old ones, a real client's request is the new one.
        oldest = next(iter(self.waiting), newcomer)
        if oldest is not newcomer:
            del self.waiting[oldest]
            oldest.transport.close()


_guards: "WeakKeyDictionary[ServerState, _Guard]" = WeakKeyDictionary()


class _Draining(asyncio.Protocol):
    """Reads and drops what a refused client is still sending, then closes."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.timer = loop.call_later(LINGER_S, transport.close)

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> None:
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.timer.cancel()


class JsonErrorHttpToolsProtocol(HttpToolsProtocol):
    # Per connection; class attributes are the values of a new connection.
    _guard: _Guard
    _max_head_bytes = HttpLimits.max_head_bytes
    _head_bytes = 0  # target + header names and values of the head being read
    _raw_bytes = 0  # bytes received since the current head began
    _reading_head = True
    _head_too_large = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        guard = _guards.get(self.server_state)
        if guard is None:
            limits = getattr(self.config, "http_limits", None) or HttpLimits()
            guard = _guards[self.server_state] = _Guard(self.loop, limits)
        self._guard = guard
        self._max_head_bytes = guard.limits.max_head_bytes
        guard.waiting[self] = self.loop.time()
        if len(self.connections) > guard.max_connections:
            guard.make_room(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._guard.waiting.pop(self, None)
        super().connection_lost(exc)

    # uvicorn's data_received, without its keep-alive timer (the guard closes idle
    # connections) and counting the bytes of an unfinished head: httptools buffers a
    # header value until it ends, so a header is bounded here, not in on_header.
    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            self._raw_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self._head_too_large:
                self._refuse_head_too_large()
            else:
                self.logger.warning("Invalid HTTP request received.")
                self._refuse(400, "bad_request", "The request is not valid HTTP.")
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        # Twice the limit: the raw bytes also hold the request line, ": " and CRLFs.
        if self._reading_head and self._raw_bytes > 2 * self._max_head_bytes:
            self._refuse_head_too_large()

    def on_url(self, url: bytes) -> None:
        self.url += url
        self._head_bytes += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value)
        name = name.lower()
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self._head_bytes > self._max_head_bytes:
            self._head_too_large = True
            raise _HeadTooLarge
        self._head_bytes = 0
        self._reading_head = False
        self._guard.waiting.pop(self, None)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head = True
        self._raw_bytes = 0

    # uvicorn's, with the guard's deadline for the next head instead of a keep-alive timer.
    def on_response_complete(self) -> None:
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            self._guard.waiting[self] = self.loop.time()

    def head_timed_out(self) -> None:
        if self.transport.is_closing():
            return
        if self._raw_bytes:
            self._refuse(408, "request_timeout", "The request head was not sent in time.")
        else:  # an idle connection: nothing to answer
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        del msg  # uvicorn's parser message; the JSON body says the same in our words
        self._refuse(400, "bad_request", "The request is not valid HTTP.")

    def _refuse_head_too_large(self) -> None:
        self._refuse(
            431,
            "request_header_fields_too_large",
            f"The request target and headers exceed {self._max_head_bytes} bytes.",
        )

    def _refuse(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        head = [STATUS_LINE[status]]
        head += [
            name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
        ]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        transport = self.transport
        transport.write(b"".join(head) + body)
        if self.cycle is not None and not self.cycle.response_complete:
            transport.close()  # a request of this connection is still running: as uvicorn
            return
        # Done with this connection as far as uvicorn and the guard are concerned.
        self.connections.discard(self)
        self._guard.waiting.pop(self, None)
        if transport.can_write_eof():
            transport.write_eof()
        transport.set_protocol(_Draining(transport, self.loop))
        transport.resume_reading()
