"""One test body for both clients: `Blocking` drives an `AsyncClient` on an event loop.

Each test that takes the `connect` fixture runs twice, once with `tokend.Client`
and once with `tokend.AsyncClient`, against the same server.
"""

import asyncio
from collections.abc import Iterator
from typing import Any, Protocol

from tokend.client import AsyncClient, AsyncTokens, Client
from tokend.client.calls import Expiry
from tokend.models import AuditEvent, AuthToken, AuthUser, CreateTokenResponse


class TokensLike(Protocol):
    def create(
        self,
        name: str,
        expires_at: Expiry | None = None,
        team_id: str | None = None,
        project_id: str | None = None,
        *,
        slug: str | None = None,
    ) -> CreateTokenResponse: ...

    def list(self, limit: int | None = None, *, page_size: int = 100) -> Iterator[AuthToken]: ...

    def get(self, token_id: str) -> AuthToken: ...

    def delete(self, token_id: str) -> str: ...

    def rotate(self, token_id: str) -> CreateTokenResponse: ...


class ClientLike(Protocol):
    base_url: str

    @property
    def tokens(self) -> TokensLike: ...

    def user(self) -> AuthUser: ...

    def events(self, limit: int | None = None, *, page_size: int = 100) -> Iterator[AuditEvent]: ...

    def close(self) -> None: ...


class _BlockingTokens:
    def __init__(self, tokens: AsyncTokens, runner: asyncio.Runner) -> None:
        self._tokens = tokens
        self._run = runner.run

    def create(self, name: str, *args: Any, **kwargs: Any) -> CreateTokenResponse:
        return self._run(self._tokens.create(name, *args, **kwargs))

    def list(self, limit: int | None = None, *, page_size: int = 100) -> Iterator[AuthToken]:
        async def collect() -> list[AuthToken]:
            return [token async for token in self._tokens.list(limit, page_size=page_size)]

        return iter(self._run(collect()))

    def get(self, token_id: str) -> AuthToken:
        return self._run(self._tokens.get(token_id))

    def delete(self, token_id: str) -> str:
        return self._run(self._tokens.delete(token_id))

    def rotate(self, token_id: str) -> CreateTokenResponse:
        return self._run(self._tokens.rotate(token_id))


class Blocking:
    """An `AsyncClient` behind the blocking API, all calls on one event loop."""

    def __init__(self, client: AsyncClient, runner: asyncio.Runner) -> None:
        self._client = client
        self._runner = runner
        self.base_url = client.base_url
        self.tokens = _BlockingTokens(client.tokens, runner)

    def user(self) -> AuthUser:
        return self._runner.run(self._client.user())

    def events(self, limit: int | None = None, *, page_size: int = 100) -> Iterator[AuditEvent]:
        async def collect() -> list[AuditEvent]:
            return [event async for event in self._client.events(limit, page_size=page_size)]

        return iter(self._runner.run(collect()))

    def close(self) -> None:
        self._runner.run(self._client.aclose())


def open_client(flavor: str, runner: asyncio.Runner, **kwargs: Any) -> ClientLike:
    if flavor == "sync":
        return Client(**kwargs)
    return Blocking(AsyncClient(**kwargs), runner)
