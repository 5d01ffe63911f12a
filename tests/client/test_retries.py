"""Retry rules, with a scripted upstream (httpx.MockTransport) standing in for a proxy or
an overloaded server: tokend itself cannot be made to answer 429 on demand.
"""

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from tests.client.conftest import Connect
from tests.client.flavors import ClientLike
from tokend.client import (
    APIError,
    InvalidResponse,
    NotFound,
    RateLimited,
    RetryPolicy,
    ServerUnreachable,
    ServiceUnavailable,
)
from tokend.client.errors import parse_retry_after

QUICK = RetryPolicy(attempts=3, backoff_s=0.0)
USER = {"user": {"id": "u1", "email": "a@localhost", "name": None, "username": "a", "createdAt": 1}}


def error(status: int, code: str, **headers: str) -> httpx.Response:
    body = {"error": {"code": code, "message": f"{code} happened."}}
    return httpx.Response(status, json=body, headers=headers)


class Script:
    """Answers each request with the next scripted outcome, and records the requests."""

    def __init__(self, *outcomes: httpx.Response | Exception) -> None:
        self.outcomes = list(outcomes)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def scripted(connect: Connect, script: Script) -> ClientLike:
    return connect(
        base_url="http://tokend.test", token="t", retry=QUICK, transport=script.transport()
    )


def test_reads_retry_503_then_succeed(connect: Connect) -> None:
    script = Script(error(503, "service_unavailable"), httpx.Response(200, json=USER))
    client = scripted(connect, script)
    assert client.user().username == "a"
    assert len(script.requests) == 2


def test_retry_after_is_honoured(connect: Connect) -> None:
    script = Script(
        error(429, "rate_limited", **{"Retry-After": "1"}), httpx.Response(200, json=USER)
    )
    client = scripted(connect, script)
    started = time.monotonic()
    client.user()
    assert time.monotonic() - started >= 1.0
    assert len(script.requests) == 2


def test_gives_up_after_the_last_attempt(connect: Connect) -> None:
    script = Script(*[error(429, "rate_limited", **{"Retry-After": "0"}) for _ in range(3)])
    client = scripted(connect, script)
    with pytest.raises(RateLimited) as raised:
        client.user()
    assert (raised.value.status, raised.value.code, raised.value.retry_after) == (
        429,
        "rate_limited",
        0,
    )
    assert len(script.requests) == 3


def test_a_long_retry_after_is_not_waited_for(connect: Connect) -> None:
    script = Script(error(429, "rate_limited", **{"Retry-After": "3600"}))
    client = scripted(connect, script)
    with pytest.raises(RateLimited) as raised:
        client.user()
    assert raised.value.retry_after == 3600
    assert len(script.requests) == 1


def test_create_is_never_retried(connect: Connect) -> None:
    for outcome in (error(503, "service_unavailable"), httpx.ConnectError("refused")):
        script = Script(outcome)
        client = scripted(connect, script)
        with pytest.raises((ServiceUnavailable, ServerUnreachable)):
            client.tokens.create("ci")
        assert len(script.requests) == 1


def test_reads_retry_any_connection_failure(connect: Connect) -> None:
    token = {"token": {"id": "x" * 24, "name": "n", "createdAt": 1, "activeAt": 1}}
    script = Script(
        httpx.ReadError("reset"), httpx.ConnectError("refused"), httpx.Response(200, json=token)
    )
    client = scripted(connect, script)
    assert client.tokens.get("current").name == "n"
    assert len(script.requests) == 3


def test_delete_is_resent_after_any_connection_failure(connect: Connect) -> None:
    deleted = httpx.Response(200, json={"tokenId": "x" * 24})
    for failure in (httpx.ConnectError("refused"), httpx.ReadError("reset")):
        script = Script(failure, deleted)
        client = scripted(connect, script)
        assert client.tokens.delete("x" * 24) == "x" * 24
        assert len(script.requests) == 2


FIRST_FAILURES: dict[str, Callable[[], httpx.Response | Exception]] = {
    "503": lambda: error(503, "service_unavailable"),
    "429": lambda: error(429, "rate_limited", **{"Retry-After": "0"}),
    "read-error": lambda: httpx.ReadError("reset"),  # the answer was lost, not the delete
}


@pytest.mark.parametrize("first", FIRST_FAILURES)
def test_a_retried_delete_that_finds_the_token_gone_is_done(connect: Connect, first: str) -> None:
    script = Script(FIRST_FAILURES[first](), error(404, "not_found"))
    client = scripted(connect, script)
    assert client.tokens.delete("x" * 24) == "x" * 24
    assert len(script.requests) == 2


def test_a_delete_whose_first_answer_is_404_raises(connect: Connect) -> None:
    script = Script(error(404, "not_found"))
    client = scripted(connect, script)
    with pytest.raises(NotFound):
        client.tokens.delete("x" * 24)


def test_errors_that_are_not_tokend_json_still_carry_the_status(connect: Connect) -> None:
    script = Script(httpx.Response(502, text="<html>Bad Gateway</html>"))
    client = scripted(connect, script)
    with pytest.raises(APIError) as raised:
        client.user()
    assert (raised.value.status, raised.value.code) == (502, "http_502")
    assert "<html>" not in str(raised.value)


def test_a_success_that_is_not_tokend_json_is_invalid_response(connect: Connect) -> None:
    script = Script(httpx.Response(200, text=json.dumps({"hello": "world"})))
    client = scripted(connect, script)
    with pytest.raises(InvalidResponse):
        client.user()


def test_the_token_and_user_agent_are_sent(connect: Connect) -> None:
    script = Script(httpx.Response(200, json=USER))
    client = scripted(connect, script)
    client.user()
    request = script.requests[0]
    assert request.headers["Authorization"] == "Bearer t"
    assert request.headers["User-Agent"].startswith("tokend-python/")


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), (" 0 ", 0.0), ("soon", None), ("-1", None), (None, None)],
)
def test_retry_after_seconds(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_retry_after_http_date() -> None:
    later = datetime.now(UTC) + timedelta(seconds=30)
    waited = parse_retry_after(format_datetime(later, usegmt=True))
    assert waited is not None
    assert 28 <= waited <= 30
