"""When to try a request again, and how long to wait first."""

import random
from dataclasses import dataclass
from enum import Enum

import httpx

from tokend.client.errors import APIError

# 429: the server refused to do anything yet; 503: its database was away.
RETRYABLE_STATUSES = frozenset({429, 503})


class Idempotency(Enum):
    """How safe it is to send a request twice."""

    NONE = "none"  # create: a second attempt could make a second token
    IDEMPOTENT = "idempotent"  # delete: the same end state; a retry's 404 means done
    SAFE = "safe"  # reads


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, at least as long as ``Retry-After`` asks.

    ``attempts`` counts the first try. A ``Retry-After`` longer than ``max_wait_s``
    is not waited for: the error is raised so the caller can decide.
    """

    attempts: int = 4
    backoff_s: float = 0.25
    max_backoff_s: float = 8.0
    max_wait_s: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before try ``attempt + 1``; None means give up."""
        if attempt >= self.attempts:
            return None
        backoff = random.uniform(0, min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1)))  # noqa: S311 - jitter, not a secret
        wait = max(backoff, retry_after or 0.0)
        return wait if wait <= self.max_wait_s else None


NO_RETRIES = RetryPolicy(attempts=1)


def may_retry_error(error: APIError, idempotency: Idempotency) -> bool:
    return idempotency is not Idempotency.NONE and error.status in RETRYABLE_STATUSES


def may_retry_transport(error: httpx.TransportError, idempotency: Idempotency) -> bool:
    # A delete may be resent even when the first one may have arrived: the retry's
    # 404 then counts as done (`Call.already_done`), not as "no such token".
    return idempotency is not Idempotency.NONE
