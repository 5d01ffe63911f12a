"""What both clients share: where to connect, which headers, what an answer means."""

import os
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from tokend import __version__
from tokend.client.calls import Call
from tokend.client.errors import ClientError, ServerUnreachable, api_error
from tokend.client.retry import RetryPolicy, may_retry_error, may_retry_transport

T = TypeVar("T")

DEFAULT_URL = "http://127.0.0.1:8000"  # where `tokend serve` listens by default
URL_VARIABLE = "TOKEND_URL"
TOKEN_VARIABLE = "TOKEND_TOKEN"
USER_AGENT = f"tokend-python/{__version__}"


class ConfigurationError(ClientError):
    """The client was given a URL or token it cannot use."""


def resolve_base_url(base_url: str | None) -> str:
    url = (base_url or os.environ.get(URL_VARIABLE) or DEFAULT_URL).strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"the server URL must start with http:// or https://, got {url!r}")
    return url


def resolve_token(token: str | None) -> str | None:
    token = (token if token is not None else os.environ.get(TOKEN_VARIABLE, "")).strip()
    if not token:
        return None
    if not token.isascii() or not token.isprintable() or " " in token:
        # Not echoed: it may be a real secret with a stray character pasted in.
        raise ConfigurationError("the token contains characters that cannot be sent in a header")
    return token


def headers(token: str | None) -> dict[str, str]:
    result = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if token:
        result["Authorization"] = f"Bearer {token}"
    return result


def request_arguments(call: Call[Any]) -> dict[str, Any]:
    return {"method": call.method, "url": call.path, "params": call.params, "json": call.json}


@dataclass(frozen=True)
class Wait:
    """Send the call again after this many seconds."""

    seconds: float


def settle(
    call: Call[T],
    outcome: httpx.Response | httpx.TransportError,
    attempt: int,
    policy: RetryPolicy,
    base_url: str,
) -> T | Wait:
    """The result of one attempt: the value, a `Wait` before the next try, or a raise."""
    if isinstance(outcome, httpx.TransportError):
        delay = (
            policy.delay(attempt, None) if may_retry_transport(outcome, call.idempotency) else None
        )
        if delay is None:
            raise ServerUnreachable(base_url, _describe(outcome)) from outcome
        return Wait(delay)
    if outcome.is_success:
        return call.read(outcome.content)
    error = api_error(outcome)
    if attempt > 1 and error.status == 404 and call.already_done is not None:
        # Only a retry gets here: the attempt before it may have done the work.
        return call.already_done()
    delay = (
        policy.delay(attempt, error.retry_after)
        if may_retry_error(error, call.idempotency)
        else None
    )
    if delay is None:
        raise error
    return Wait(delay)


def _describe(error: httpx.TransportError) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "no answer in time"
    return str(error) or type(error).__name__
