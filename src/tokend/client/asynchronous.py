"""`AsyncClient`: the same API as `Client`, with ``await`` and ``async for``."""

from collections.abc import AsyncIterator, Iterable
from datetime import timedelta
from types import TracebackType
from typing import Any, TypeVar

import anyio
import httpx

from tokend.client import calls
from tokend.client.calls import MAX_PAGE_SIZE, Call, Expiry, Pages
from tokend.client.connection import (
    Wait,
    headers,
    request_arguments,
    resolve_base_url,
    resolve_token,
    settle,
)
from tokend.client.retry import RetryPolicy
from tokend.models import (
    AuditEvent,
    AuthToken,
    AuthUser,
    CreateTokenResponse,
    CreateWebhookResponse,
    Webhook,
    WebhookDelivery,
)

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - the item type


class AsyncClient:
    """A tokend server, over HTTP, for asyncio or trio programs. See `tokend.Client`."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = resolve_base_url(base_url)
        self._retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers(resolve_token(token)),
            timeout=timeout,
            transport=transport,
        )
        self.tokens = AsyncTokens(self)
        self.webhooks = AsyncWebhooks(self)

    async def user(self) -> AuthUser:
        """The user the token belongs to."""
        return await self.send(calls.get_user())

    def events(
        self, limit: int | None = None, *, page_size: int = MAX_PAGE_SIZE
    ) -> AsyncIterator[AuditEvent]:
        """The audit log of the caller's tokens (or its newest ``limit`` events), newest
        first, fetching pages as needed."""
        return self.walk(calls.event_pages(limit, page_size))

    async def walk(self, pages: Pages[Any, I]) -> AsyncIterator[I]:
        while (call := pages.next_call()) is not None:
            for item in pages.take(await self.send(call)):
                yield item

    async def send(self, call: Call[T]) -> T:
        attempt = 1
        while True:
            outcome: httpx.Response | httpx.TransportError
            try:
                outcome = await self._http.request(**request_arguments(call))
            except httpx.TransportError as exc:
                outcome = exc
            step = settle(call, outcome, attempt, self._retry, self.base_url)
            if not isinstance(step, Wait):
                return step
            await anyio.sleep(step.seconds)
            attempt += 1

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncClient(base_url={self.base_url!r})"


class AsyncTokens:
    """``client.tokens``: the caller's tokens."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
        self,
        name: str,
        expires_at: Expiry | None = None,
        team_id: str | None = None,
        project_id: str | None = None,
        *,
        slug: str | None = None,
        permissions: Iterable[str] | None = None,
    ) -> CreateTokenResponse:
        """A new token; its secret is in ``.bearer_token``, and only there.
        ``permissions``: restrict it to these (None: unrestricted)."""
        call = calls.create_token(
            name,
            expires_at=expires_at,
            team_id=team_id,
            slug=slug,
            project_id=project_id,
            permissions=permissions,
        )
        return await self._client.send(call)

    def list(
        self, limit: int | None = None, *, page_size: int = MAX_PAGE_SIZE
    ) -> AsyncIterator[AuthToken]:
        """Every token (or the newest ``limit``), newest first, fetching pages as needed."""
        return self._client.walk(calls.token_pages(limit, page_size))

    async def get(self, token_id: str) -> AuthToken:
        """One token's metadata; ``"current"`` is the client's own token."""
        return await self._client.send(calls.get_token(token_id))

    async def delete(self, token_id: str) -> str:
        """Revoke a token (``"current"`` allowed); returns its id."""
        return await self._client.send(calls.delete_token(token_id))

    async def rotate(
        self, token_id: str, *, overlap_ms: int | timedelta | None = None
    ) -> CreateTokenResponse:
        """Revoke a token (``"current"`` allowed) and get its successor: same name, scope
        and lifetime length; the new secret is in ``.bearer_token``, and only there.
        ``overlap_ms`` (ms, or a timedelta; at most 24 hours): instead of being revoked,
        the old token keeps working that long, so its users can move to the new one."""
        return await self._client.send(calls.rotate_token(token_id, overlap_ms=overlap_ms))


class AsyncWebhooks:
    """``client.webhooks``: the caller's webhooks (its team's, for a team token)."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(self, url: str, events: Iterable[str]) -> CreateWebhookResponse:
        """A new webhook; its signing secret is in ``.secret``, and only there."""
        return await self._client.send(calls.create_webhook(url, events))

    async def get(self, webhook_id: str) -> Webhook:
        return await self._client.send(calls.get_webhook(webhook_id))

    async def delete(self, webhook_id: str) -> str:
        """Remove a webhook and its deliveries; returns its id."""
        return await self._client.send(calls.delete_webhook(webhook_id))

    async def enable(self, webhook_id: str) -> Webhook:
        """Turn a paused or disabled webhook back on, no longer failing (deliveries
        that failed meanwhile stay failed)."""
        return await self._client.send(calls.set_webhook_enabled(webhook_id, True))

    async def disable(self, webhook_id: str) -> Webhook:
        """Pause a webhook: nothing new is queued for it, and its pending deliveries fail."""
        return await self._client.send(calls.set_webhook_enabled(webhook_id, False))

    async def deliveries(self, webhook_id: str, limit: int = 20) -> list[WebhookDelivery]:
        """Its newest deliveries, newest first, each with its attempts."""
        return await self._client.send(calls.webhook_deliveries(webhook_id, limit))

    # Last: a method named list would hide the builtin from the annotations below it.
    async def list(self) -> list[Webhook]:
        return await self._client.send(calls.list_webhooks())
