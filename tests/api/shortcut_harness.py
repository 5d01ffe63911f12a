"""The cached-token shortcuts (`CachedTokenShortcuts`) run in the test's process over
a recording inner app: what they answered themselves, and what they passed on."""

import asyncio
from types import SimpleNamespace
from typing import Any

from starlette.types import Message, Scope

from tokend.api.shortcuts import CachedTokenShortcuts
from tokend.bootstrap import Services


def run_shortcuts(services: Services, scope: Scope) -> tuple[list[Message], list[Scope]]:
    """(What the shortcuts sent, the scopes that reached the app); ``scope`` names the
    path at least, a GET with no headers otherwise."""
    sent: list[Message] = []
    passed_on: list[Scope] = []

    async def inner(scope: Scope, receive: Any, send: Any) -> None:
        passed_on.append(scope)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    full: dict[str, Any] = {"type": "http", "method": "GET", "headers": [], "query_string": b""}
    full = {**full, **scope}
    full["app"] = SimpleNamespace(state=SimpleNamespace(services=services))
    asyncio.run(CachedTokenShortcuts(inner)(full, receive, send))
    return sent, passed_on


def bearer(secret: str) -> list[tuple[bytes, bytes]]:
    return [(b"host", b"tokend"), (b"authorization", f"Bearer {secret}".encode())]
