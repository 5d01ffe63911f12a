"""Failed authentication is limited per client address (§7), on servers of their own:
over the limit an address's failing requests get 429 `rate_limited` until its window
ends, while its live tokens keep working; with Redis the count is shared by every node."""

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import text

from tests.api.assertions import assert_error
from tests.conftest import Account
from tests.support import REDIS_URL, Server, redis_prefix
from tokend.bootstrap import Services
from tokend.domain.audit import EventType
from tokend.domain.secret import SecretFormat

LIMIT = 3
STRICT = {"TOKEND_RATE_LIMIT_FAILURES": str(LIMIT)}

MakeServer = Callable[..., Server]


@pytest.fixture
def make_server(database_url: str, tmp_path: Path) -> Iterator[MakeServer]:
    """Starts servers on the test database with a limit of 3; all stopped afterwards."""
    started: list[Server] = []

    def make(**env: str) -> Server:
        log = tmp_path / f"node-{len(started)}.log"
        node = Server(database_url=database_url, log_path=log, env={**STRICT, **env})
        started.append(node.start())
        return node

    yield make
    for node in started:
        node.stop()


def guess(node: Server, headers: dict[str, str] | None = None) -> httpx.Response:
    """A well-formed token that was never issued: looked up, and a failure."""
    with node.client(SecretFormat().generate()) as api:
        return api.get("/v2/user", headers=headers)


def use(node: Server, token: str, path: str = "/v2/user", **headers: str) -> httpx.Response:
    with node.client(token) as api:
        return api.get(path, headers=headers)


def assert_rate_limited(response: httpx.Response, window_s: int = 60) -> dict[str, int]:
    """A §5 429 with its limit object and Retry-After; returns the limit object."""
    before_ms = time.time_ns() // 1_000_000
    assert_error(response, 429, "rate_limited")
    limit: dict[str, int] = response.json()["error"]["limit"]
    assert set(limit) == {"remaining", "reset", "resetMs", "total"}
    assert all(type(value) is int for value in limit.values()), limit
    assert (limit["remaining"], limit["total"]) == (0, LIMIT)
    assert limit["reset"] == limit["resetMs"] // 1000
    assert before_ms - 1000 < limit["resetMs"] <= before_ms + window_s * 1000
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= window_s
    # Whole seconds, rounded up, to the end of the window.
    assert 0 <= retry_after - (limit["resetMs"] - before_ms) / 1000 <= 2
    return limit


def test_a_burst_of_bad_tokens_is_refused_with_429(make_server: MakeServer, alice: Account) -> None:
    node = make_server()
    for _ in range(2):  # cached now, so GET /v2/user takes the ASGI shortcut
        assert use(node, alice.token).status_code == 200
    for _ in range(LIMIT):
        assert_error(guess(node), 401, "invalid_token")
    with node.client() as anonymous:
        # No token at all is a failure too, here the one over the limit.
        assert_error(anonymous.get("/v6/user/tokens"), 429, "rate_limited")
    first = assert_rate_limited(guess(node))

    # A live token from the same address is never refused (one client behind a NAT
    # must not lock out the others): on the shortcut, the routes, and for writes.
    assert use(node, alice.token).status_code == 200
    assert use(node, alice.token, "/v6/user/tokens").status_code == 200
    with node.client(alice.token) as api:
        assert api.post("/v3/user/tokens", json={"name": "not blocked"}).status_code == 200
    # A live token the node has never seen (a cache miss) is not refused either.
    with node.client(alice.token) as api:
        fresh = api.post("/v3/user/tokens", json={"name": "never used"}).json()["bearerToken"]
    assert use(node, fresh, "/v5/user/tokens/current").status_code == 200
    # Refusals are not failures: the window stays where it was.
    assert assert_rate_limited(guess(node))["resetMs"] == first["resetMs"]
    # What needs no token is never limited.
    with node.client() as anonymous:
        for path in ("/healthz", "/readyz", "/openapi.json", "/docs"):
            assert anonymous.get(path).status_code == 200, path


def test_the_gateway_check_is_limited_like_every_endpoint(
    make_server: MakeServer, alice: Account
) -> None:
    node = make_server()
    check = "/v1/auth/check"
    for _ in range(2):  # cached now: the check's shortcut
        assert use(node, alice.token, check).status_code == 200
    for _ in range(LIMIT):  # failures at the check count toward the address's limit
        with node.client(SecretFormat().generate()) as api:
            assert_error(api.get(check), 401, "invalid_token")
    with node.client(SecretFormat().generate()) as api:
        limited = api.post(check)  # any method: a proxy may forward the original one
    assert_rate_limited(limited)
    assert set(limited.headers) >= {"retry-after"}
    assert not any(name.startswith("x-tokend-") for name in limited.headers)
    # GET /v2/user is refused alike, with the same body shape; live tokens still pass.
    assert_rate_limited(guess(node))
    assert use(node, alice.token, check).status_code == 200
    assert use(node, alice.token, check + "?permission=user:read").status_code == 200


def test_the_address_works_again_when_the_window_ends(
    make_server: MakeServer, alice: Account
) -> None:
    node = make_server(TOKEND_RATE_LIMIT_WINDOW_S="2")
    statuses = [guess(node).status_code for _ in range(LIMIT + 1)]
    assert statuses == [401] * LIMIT + [429]
    limit = assert_rate_limited(guess(node), window_s=2)
    assert use(node, alice.token).status_code == 200

    time.sleep(max(0.0, limit["resetMs"] / 1000 - time.time()) + 0.05)
    assert_error(guess(node), 401, "invalid_token")  # a new window, a new allowance


def test_x_forwarded_for_is_ignored_by_default(make_server: MakeServer, alice: Account) -> None:
    node = make_server()
    for index in range(LIMIT):
        assert guess(node, {"X-Forwarded-For": f"198.51.100.{index}"}).status_code == 401
    # Every spoofed address was counted against the real one, 127.0.0.1.
    assert_rate_limited(guess(node, {"X-Forwarded-For": "198.51.100.200"}))
    with node.client() as anonymous:
        response = anonymous.get("/v2/user", headers={"X-Forwarded-For": "198.51.100.201"})
    assert_rate_limited(response)


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(
    make_server: MakeServer, alice: Account
) -> None:
    node = make_server(TOKEND_TRUSTED_PROXIES="10.9.0.0/16, 127.0.0.1")
    one, other = {"X-Forwarded-For": "198.51.100.1"}, {"X-Forwarded-For": "198.51.100.2"}
    statuses = [guess(node, one).status_code for _ in range(LIMIT + 1)]
    assert statuses == [401] * LIMIT + [429]
    assert use(node, alice.token, **one).status_code == 200  # live: never limited

    assert_error(guess(node, other), 401, "invalid_token")
    assert_error(guess(node), 401, "invalid_token")  # the proxy itself
    # A client cannot hide behind an address it prepends: the proxy's view counts.
    assert_rate_limited(guess(node, {"X-Forwarded-For": "203.0.113.9, 198.51.100.1"}))


@pytest.fixture
def prefix() -> Iterator[str]:
    with redis_prefix() as prefix:
        yield prefix


def test_with_redis_the_limit_holds_across_two_servers(
    make_server: MakeServer, alice: Account, prefix: str
) -> None:
    env = {"TOKEND_REDIS_URL": REDIS_URL, "TOKEND_REDIS_PREFIX": prefix}
    node_a, node_b = make_server(**env), make_server(**env)
    assert [guess(node).status_code for node in (node_a, node_b, node_a)] == [401] * LIMIT
    # The failure over the limit is refused by whichever node sees it ...
    assert_rate_limited(guess(node_b))
    assert_rate_limited(guess(node_a))
    # ... and each node then refuses the address's failures, not its live tokens.
    for node in (node_a, node_b):
        assert_rate_limited(guess(node))
        assert use(node, alice.token, "/v6/user/tokens").status_code == 200

    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert client.keys(f"{prefix}*") == [f"{prefix}auth-failures:127.0.0.1".encode()]
    finally:
        client.close()


def test_unreachable_redis_still_limits_in_process(make_server: MakeServer, alice: Account) -> None:
    node = make_server(TOKEND_REDIS_URL="redis://127.0.0.1:1/0")
    statuses = [guess(node).status_code for _ in range(LIMIT + 1)]
    assert statuses == [401] * LIMIT + [429]
    assert_rate_limited(guess(node))
    assert use(node, alice.token).status_code == 200
    assert "Redis unreachable (ConnectionError)" in node.log_path.read_text()


def test_blocks_are_audited_in_no_users_log(
    make_server: MakeServer, alice: Account, services: Services
) -> None:
    node = make_server()
    started_ms = time.time_ns() // 1_000_000
    assert use(node, alice.token).status_code == 200
    for _ in range(LIMIT + 3):
        guess(node)
    for _ in range(3):
        assert use(node, alice.token, **{"User-Agent": "behind-the-nat/1"}).status_code == 200

    # The guessed tokens are nobody's: the block is recorded once, with the address,
    # in no user's log; alice, whose token kept working, has no such event.
    principal = services.authenticator.authenticate(alice.token)
    events = services.audit.list(principal, limit=100).events
    assert not [event for event in events if event.type is EventType.AUTH_RATE_LIMITED]
    with services.engine.connect() as conn:
        unowned = conn.execute(
            text(
                "SELECT count(*) FROM audit_events "
                "WHERE type = 'auth.rate_limited' AND user_id IS NULL AND ip = '127.0.0.1' "
                "AND created_at >= :started"
            ),
            {"started": started_ms},
        ).scalar()
    assert unowned == 1  # the other tests' servers blocked this address before


def test_a_proxy_passing_on_garbage_cannot_make_fresh_counters(
    make_server: MakeServer, alice: Account
) -> None:
    # A trusted proxy forwards whatever the client put in X-Forwarded-For; text that is
    # not an address counts as one address, so each request cannot pick a new counter.
    node = make_server(TOKEND_TRUSTED_PROXIES="127.0.0.1")
    statuses = [
        guess(node, {"X-Forwarded-For": f"not-an-address-{index}-{'x' * 100}"}).status_code
        for index in range(LIMIT + 1)
    ]
    assert statuses == [401] * LIMIT + [429]
    assert use(node, alice.token, **{"X-Forwarded-For": "garbage"}).status_code == 200
    assert_error(guess(node, {"X-Forwarded-For": "198.51.100.7"}), 401, "invalid_token")
