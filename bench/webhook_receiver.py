"""A webhook receiver for the benchmarks: answers every POST 204 at once and keeps what
arrived, for bench/webhooks.py to count and verify after the timed part.

A bare ASGI app on uvicorn (httptools, uvloop), one process of its own: no framework,
no verification while timing, so that it takes far more than tokend sends it
(bench/webhooks.py measures what it takes with wrk and says so beside the figures).

    POST /anything        -> 204; kept: path, webhook-id, -timestamp, -signature, body
    GET  /_stats          -> {"count", "distinct", "firstNs", "lastNs"} (CLOCK_MONOTONIC,
                             comparable with time.monotonic_ns() in another process)
    GET  /_deliveries     -> every POST kept, in arrival order
    POST /_reset          -> forget them all

    .venv/bin/python -m uvicorn bench.webhook_receiver:app --http httptools --loop uvloop \
        --lifespan off --no-access-log
"""

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_KEPT_HEADERS = (b"webhook-id", b"webhook-timestamp", b"webhook-signature")


class Received:
    """What arrived; one event loop, so no lock."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.deliveries: list[dict[str, str]] = []
        self.ids: set[str] = set()
        self.first_ns = 0
        self.last_ns = 0

    def keep(self, path: str, headers: dict[bytes, bytes], body: bytes) -> None:
        now = time.monotonic_ns()
        if not self.deliveries:
            self.first_ns = now
        self.last_ns = now
        kept = {name.decode(): headers.get(name, b"").decode("latin-1") for name in _KEPT_HEADERS}
        self.ids.add(kept["webhook-id"])
        # Decoded later, by the benchmark: nothing here that costs per request.
        self.deliveries.append({"path": path, **kept, "body": body.decode("utf-8", "replace")})

    def stats(self) -> dict[str, int]:
        return {
            "count": len(self.deliveries),
            "distinct": len(self.ids),
            "firstNs": self.first_ns,
            "lastNs": self.last_ns,
        }


received = Received()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":  # run with --lifespan off: nothing to set up
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    method, path = scope["method"], scope["path"]
    if method == "GET" and path == "/_stats":
        await answer(send, 200, json.dumps(received.stats()).encode())
    elif method == "GET" and path == "/_deliveries":
        await answer(send, 200, json.dumps(received.deliveries).encode())
    elif method == "POST" and path == "/_reset":
        received.reset()
        await answer(send, 204, b"")
    elif method == "POST":
        received.keep(path, dict(scope["headers"]), body)
        await answer(send, 204, b"")
    else:
        await answer(send, 405, b"")


async def answer(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json")] if body else []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
