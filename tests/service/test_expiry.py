"""Expiry warnings: each threshold a token's remaining life crosses is announced once
(token.expiring), its expiry too (token.expired); also after a restart, and with two
nodes scanning one database at the same time."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from tokend.bootstrap import Services, bootstrap
from tokend.domain.audit import EventType
from tokend.domain.expiry import EXPIRED, ExpiryNotice
from tokend.domain.principal import Principal
from tokend.domain.tokens import Token
from tokend.service.expiry import EXPIRED_LOOKBACK_MS, ExpiryScanner
from tokend.settings import Settings

from .conftest import ManualClock

DAY = 86_400_000
HOUR = 3_600_000
THRESHOLDS = (30 * DAY, 7 * DAY, DAY)
# Far beyond every other test's tokens, which share the nodes' databases: those have
# all expired long before (outside the lookback), so only this module's are due.
FUTURE = 7_000_000_000_000


class Node:
    """One process's scanner and token service, on a clock the test moves."""

    def __init__(self, services: Services, clock: ManualClock) -> None:
        self.services = services
        self.clock = clock
        self.notices: list[ExpiryNotice] = []
        self.scanner = ExpiryScanner(
            uow=services.tokens.uow,
            thresholds_ms=THRESHOLDS,
            interval_s=60,
            notify=self.notices.append,
            clock=clock,
        )
        self.tokens = replace(services.tokens, clock=clock)

    def person(self) -> Principal:
        name = f"exp-{uuid.uuid4().hex[:10]}"
        created = self.services.admin.create_user(name, email=f"{name}@example.com")
        return self.services.authenticator.authenticate(created.issued.secret)

    def token(self, principal: Principal, life_ms: int, name: str = "deploy") -> Token:
        return self.tokens.create(principal, name=name, expires_at=self.clock() + life_ms).token

    def scan(self) -> list[tuple[str, int]]:
        return [(notice.token.id, notice.threshold_ms) for notice in self.scanner.scan()]

    def events(self, principal: Principal) -> list[tuple[EventType, str | None]]:
        page = self.services.audit.list(principal, limit=100)
        return [(event.type, event.token_id) for event in reversed(page.events)]


def scanned_after(start: threading.Barrier, node: Node) -> list[tuple[str, int]]:
    start.wait()
    return node.scan()


@pytest.fixture
def node(services: Services) -> Node:
    return Node(services, ManualClock(FUTURE))


def test_each_threshold_is_announced_once_then_the_expiry(node: Node) -> None:
    alice = node.person()
    token = node.token(alice, 40 * DAY)

    assert node.scan() == []
    node.clock.advance(10 * DAY)  # 30 days left: exactly on the threshold
    assert node.scan() == [(token.id, 30 * DAY)]
    assert node.scan() == []
    node.clock.advance(23 * DAY - 1)  # 7 days and a millisecond left
    assert node.scan() == []
    node.clock.advance(1)
    assert node.scan() == [(token.id, 7 * DAY)]
    node.clock.advance(6 * DAY + HOUR)
    assert node.scan() == [(token.id, DAY)]
    node.clock.advance(HOUR)
    assert node.scan() == []
    node.clock.advance(DAY)
    assert node.scan() == [(token.id, EXPIRED)]
    node.clock.advance(DAY)
    assert node.scan() == []

    expiring, expired = EventType.TOKEN_EXPIRING, EventType.TOKEN_EXPIRED
    assert node.events(alice)[-5:] == [
        (EventType.TOKEN_CREATED, token.id),
        (expiring, token.id),
        (expiring, token.id),
        (expiring, token.id),
        (expired, token.id),
    ]
    notice = node.notices[0]
    assert (notice.user.id, notice.token.name, notice.expires_at) == (
        alice.user.id,
        "deploy",
        token.expires_at,
    )


def test_only_the_smallest_threshold_crossed_is_announced(node: Node) -> None:
    alice = node.person()
    token = node.token(alice, 2 * DAY)  # past 30d and 7d already

    assert node.scan() == [(token.id, 7 * DAY)]
    node.clock.advance(DAY)
    assert node.scan() == [(token.id, DAY)]
    assert node.scan() == []


def test_a_token_that_expired_unwarned_gets_only_token_expired(node: Node) -> None:
    alice = node.person()
    token = node.token(alice, HOUR)  # inside every threshold; the scan runs after expiry
    node.clock.advance(2 * HOUR)

    assert node.scan() == [(token.id, EXPIRED)]
    assert node.scan() == []
    assert [type for type, _ in node.events(alice)].count(EventType.TOKEN_EXPIRING) == 0


def test_revoked_and_unending_tokens_get_no_notice(node: Node) -> None:
    alice = node.person()
    revoked = node.token(alice, 2 * DAY, name="revoked")
    node.tokens.revoke(alice, revoked.id)
    node.tokens.create(alice, name="forever")

    assert node.scan() == []
    node.clock.advance(3 * DAY)
    assert node.scan() == []


def test_tokens_that_expired_long_ago_are_not_announced(node: Node) -> None:
    alice = node.person()
    node.token(alice, HOUR)
    node.clock.advance(HOUR + EXPIRED_LOOKBACK_MS)

    assert node.scan() == []


def test_a_restarted_server_sends_no_notice_twice(services: Services, node: Node) -> None:
    alice = node.person()
    token = node.token(alice, 3 * DAY)
    assert node.scan() == [(token.id, 7 * DAY)]

    restarted = bootstrap(Settings(database_url=services.settings.database_url))
    try:
        again = Node(restarted, node.clock)
        assert again.scan() == []
        node.clock.advance(2 * DAY)
        assert again.scan() == [(token.id, DAY)]
        assert node.scan() == []
    finally:
        restarted.close()


def test_two_nodes_scanning_at_once_give_each_notice_once(
    nodes: tuple[Services, Services],
) -> None:
    clock = ManualClock(FUTURE + 100 * DAY)
    first, second = Node(nodes[0], clock), Node(nodes[1], clock)
    alice = first.person()
    lives = [HOUR, 2 * DAY, 10 * DAY, 20 * DAY, 31 * DAY, 45 * DAY]
    made = [first.token(alice, life, name=f"t{i}") for i, life in enumerate(lives * 4)]
    given: list[tuple[str, int]] = []

    for _ in range(8):  # eight rounds of both nodes scanning at the same moment
        clock.advance(7 * DAY)
        start = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            rounds = pool.map(scanned_after, (start, start), (first, second))
            given += [notice for result in rounds for notice in result]

    mine = {token.id for token in made}
    assert all(token_id in mine for token_id, _ in given)
    assert len(given) == len(set(given))  # no notice twice
    expired = {token_id for token_id, threshold in given if threshold == EXPIRED}
    assert expired == mine  # 56 days on, every token has expired, each announced once
    events = first.events(alice)
    assert sum(type is EventType.TOKEN_EXPIRED for type, _ in events) == len(made)
    assert sum(type is EventType.TOKEN_EXPIRING for type, _ in events) == len(given) - len(made)
