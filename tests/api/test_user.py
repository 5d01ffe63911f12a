"""GET /v2/user: the route and its ASGI shortcut for cached tokens answer alike."""

from typing import Any

from starlette.types import Message, Scope

from tests.api.raw_http import raw_request, wire
from tests.api.shortcut_harness import bearer, run_shortcuts
from tests.conftest import Account
from tests.support import Server
from tokend.bootstrap import Services


def test_cache_miss_and_hit_answer_the_same_bytes(server: Server, make_user: Any) -> None:
    fresh: Account = make_user("bytes")
    authorization = [(b"Authorization", b"Bearer " + fresh.token.encode())]
    # The server has never seen this token: the first answer comes from the route, the
    # next ones (a plain cache hit by then) from the shortcut.
    answers = [wire(raw_request(server.url, b"GET", b"/v2/user", authorization)) for _ in range(3)]
    assert answers[0][0] == 200
    assert answers[0][2].startswith(b'{"user":{"id":"' + fresh.user_id.encode())
    assert answers[1:] == [answers[0], answers[0]]


def call(services: Services, scope: Scope) -> tuple[list[Message], list[Scope]]:
    return run_shortcuts(services, {"path": "/v2/user", **scope})


def test_shortcut_answers_only_plain_cache_hits(services: Services, make_user: Any) -> None:
    secret = make_user("short").token

    sent, passed_on = call(services, {"headers": bearer(secret)})
    assert (len(sent), len(passed_on)) == (0, 1)  # never seen: the route loads it

    services.authenticator.authenticate(secret)  # what the route does on that miss
    sent, passed_on = call(services, {"headers": bearer(secret)})
    assert passed_on == []
    assert sent[0]["status"] == 200
    assert dict(sent[0]["headers"])[b"content-type"] == b"application/json"
    assert b'"username":"short-' in sent[1]["body"]

    others: list[Scope] = [
        {"method": "POST", "headers": bearer(secret)},
        {"path": "/v2/user/", "headers": bearer(secret)},
        {"headers": [(b"authorization", f"Basic {secret}".encode())]},
        {"headers": []},
        {"headers": bearer(secret[:-1] + ("x" if secret[-1] != "x" else "y"))},  # changed
        {"type": "lifespan"},
    ]
    for other in others:
        sent, passed_on = call(services, other)
        assert (len(sent), len(passed_on)) == (0, 1), other


def test_shortcut_passes_on_a_revoked_token(services: Services, alice: Account) -> None:
    made = services.tokens.create(services.authenticator.authenticate(alice.token), name="gone")
    principal = services.authenticator.authenticate(made.secret)
    assert call(services, {"headers": bearer(made.secret)})[1] == []  # cached: answered

    services.tokens.revoke(principal, "current")
    sent, passed_on = call(services, {"headers": bearer(made.secret)})
    assert (len(sent), len(passed_on)) == (0, 1)  # the route answers it 401
