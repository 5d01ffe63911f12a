"""The API's operations as plain data: what to send, and how to read the answer.

`Client` and `AsyncClient` only differ in how they send; everything else lives here
so the two cannot drift apart.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import time
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from tokend.client.errors import InvalidResponse
from tokend.client.retry import Idempotency
from tokend.models import (
    AuditEvent,
    AuthToken,
    AuthUser,
    CreateTokenResponse,
    CreateWebhookResponse,
    DeleteTokenResponse,
    GetTokenResponse,
    GetWebhookResponse,
    ListEventsResponse,
    ListTokensResponse,
    ListWebhookDeliveriesResponse,
    ListWebhooksResponse,
    UserResponse,
    Webhook,
    WebhookDelivery,
)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

MAX_PAGE_SIZE = 100  # the server's upper bound for ?limit=

Expiry = datetime | timedelta | int


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    read: Callable[[bytes], T]
    idempotency: Idempotency
    params: Mapping[str, str | int] | None = None
    json: Mapping[str, Any] | None = None
    # What a retried call returns when the server answers 404: an earlier attempt
    # (answered 503, or never answered) may have done the work already. None: raise.
    already_done: Callable[[], T] | None = None

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def _reader(model: type[M], label: str) -> Callable[[bytes], M]:
    def read(content: bytes) -> M:
        try:
            return model.model_validate_json(content)
        except ValidationError:
            raise InvalidResponse(
                f"The answer to {label} is not what a tokend server sends; "
                "is the URL that of a tokend server?"
            ) from None

    return read


def _token_path(prefix: str, token_id: str) -> str:
    # Quoted so that an id like "../x" stays one path segment.
    return f"{prefix}/{quote(token_id, safe='')}"


def get_user() -> Call[AuthUser]:
    read = _reader(UserResponse, "GET /v2/user")
    return Call("GET", "/v2/user", lambda body: read(body).user, Idempotency.SAFE)


def expiry_ms(expires_at: Expiry) -> int:
    """Milliseconds since the epoch, from an instant, a lifetime or milliseconds."""
    if isinstance(expires_at, timedelta):
        return round((time() + expires_at.total_seconds()) * 1000)
    if isinstance(expires_at, datetime):
        # A naive datetime is read as local time, as datetime.timestamp() does.
        return round(expires_at.timestamp() * 1000)
    return expires_at


def create_token(
    name: str,
    *,
    expires_at: Expiry | None = None,
    team_id: str | None = None,
    slug: str | None = None,
    project_id: str | None = None,
    permissions: Iterable[str] | None = None,
) -> Call[CreateTokenResponse]:
    body: dict[str, Any] = {"name": name}
    if expires_at is not None:
        body["expiresAt"] = expiry_ms(expires_at)
    if project_id is not None:
        body["projectId"] = project_id
    if permissions is not None:
        body["permissions"] = list(permissions)
    params = {
        key: value for key, value in (("teamId", team_id), ("slug", slug)) if value is not None
    }
    return Call(
        "POST",
        "/v3/user/tokens",
        _reader(CreateTokenResponse, "POST /v3/user/tokens"),
        Idempotency.NONE,
        params=params or None,
        json=body,
    )


def get_token(token_id: str) -> Call[AuthToken]:
    read = _reader(GetTokenResponse, "GET /v5/user/tokens/{id}")
    path = _token_path("/v5/user/tokens", token_id)
    return Call("GET", path, lambda body: read(body).token, Idempotency.SAFE)


def delete_token(token_id: str) -> Call[str]:
    read = _reader(DeleteTokenResponse, "DELETE /v3/user/tokens/{id}")
    path = _token_path("/v3/user/tokens", token_id)
    # A delete that answered 503 may have committed, and one whose answer was lost
    # may have arrived: when a retry finds the token gone, the caller's wish is done.
    return Call(
        "DELETE",
        path,
        lambda body: read(body).token_id,
        Idempotency.IDEMPOTENT,
        already_done=lambda: token_id,
    )


def rotate_token(
    token_id: str, *, overlap_ms: int | timedelta | None = None
) -> Call[CreateTokenResponse]:
    path = _token_path("/v3/user/tokens", token_id) + "/rotate"
    # Never retried: a lost answer would leave the new secret unseen and the old revoked.
    read = _reader(CreateTokenResponse, "POST /v3/user/tokens/{id}/rotate")
    body = None
    if overlap_ms is not None:
        if isinstance(overlap_ms, timedelta):
            overlap_ms = round(overlap_ms.total_seconds() * 1000)
        body = {"overlapMs": overlap_ms}
    return Call("POST", path, read, Idempotency.NONE, json=body)


class _Cursor(Protocol):
    @property
    def next(self) -> int | None: ...


class _Page(Protocol):
    @property
    def pagination(self) -> _Cursor: ...


P = TypeVar("P", bound=_Page)
I = TypeVar("I")  # noqa: E741 - the item type


class Pages(Generic[P, I]):
    """Walks a list endpoint page by page, newest first, following ``pagination.next``."""

    def __init__(
        self,
        path: str,
        model: type[P],
        items: Callable[[P], list[I]],
        limit: int | None,
        page_size: int,
    ) -> None:
        if limit is not None and limit < 0:
            raise ValueError("limit must be 0 or more")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self._path = path
        self._read = _reader(model, f"GET {path}")  # type: ignore[type-var]
        self._items = items
        self._remaining = limit
        self._page_size = page_size
        self._until: int | None = None
        self._done = limit == 0

    def next_call(self) -> Call[P] | None:
        if self._done:
            return None
        size = self._page_size
        if self._remaining is not None:
            size = min(size, self._remaining)
        params: dict[str, str | int] = {"limit": size}
        if self._until is not None:
            params["until"] = self._until
        return Call("GET", self._path, self._read, Idempotency.SAFE, params=params)

    def take(self, page: P) -> list[I]:
        items = self._items(page)
        if self._remaining is not None:
            items = items[: self._remaining]
            self._remaining -= len(items)
        self._until = page.pagination.next
        self._done = self._until is None or not items or self._remaining == 0
        return items


def token_pages(limit: int | None, page_size: int) -> Pages[ListTokensResponse, AuthToken]:
    return Pages("/v6/user/tokens", ListTokensResponse, lambda p: p.tokens, limit, page_size)


def event_pages(limit: int | None, page_size: int) -> Pages[ListEventsResponse, AuditEvent]:
    return Pages("/v1/user/events", ListEventsResponse, lambda p: p.events, limit, page_size)


def create_webhook(url: str, events: Iterable[str]) -> Call[CreateWebhookResponse]:
    # Never retried: a lost answer would leave the secret unseen (and a second webhook).
    return Call(
        "POST",
        "/v1/webhooks",
        _reader(CreateWebhookResponse, "POST /v1/webhooks"),
        Idempotency.NONE,
        json={"url": url, "events": list(events)},
    )


def list_webhooks() -> Call[list[Webhook]]:
    read = _reader(ListWebhooksResponse, "GET /v1/webhooks")
    return Call("GET", "/v1/webhooks", lambda body: read(body).webhooks, Idempotency.SAFE)


def get_webhook(webhook_id: str) -> Call[Webhook]:
    read = _reader(GetWebhookResponse, "GET /v1/webhooks/{id}")
    path = _token_path("/v1/webhooks", webhook_id)
    return Call("GET", path, lambda body: read(body).webhook, Idempotency.SAFE)


def delete_webhook(webhook_id: str) -> Call[str]:
    read = _reader(GetWebhookResponse, "DELETE /v1/webhooks/{id}")
    path = _token_path("/v1/webhooks", webhook_id)
    return Call(
        "DELETE",
        path,
        lambda body: read(body).webhook.id,
        Idempotency.IDEMPOTENT,
        already_done=lambda: webhook_id,
    )


def set_webhook_enabled(webhook_id: str, enabled: bool) -> Call[Webhook]:
    # Idempotent: a second send finds the webhook in the state asked for already.
    read = _reader(GetWebhookResponse, "PATCH /v1/webhooks/{id}")
    path = _token_path("/v1/webhooks", webhook_id)
    return Call(
        "PATCH",
        path,
        lambda body: read(body).webhook,
        Idempotency.IDEMPOTENT,
        json={"enabled": enabled},
    )


def webhook_deliveries(webhook_id: str, limit: int = 20) -> Call[list[WebhookDelivery]]:
    read = _reader(ListWebhookDeliveriesResponse, "GET /v1/webhooks/{id}/deliveries")
    path = _token_path("/v1/webhooks", webhook_id) + "/deliveries"
    return Call(
        "GET", path, lambda body: read(body).deliveries, Idempotency.SAFE, params={"limit": limit}
    )
