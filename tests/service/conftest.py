"""Services on a fresh SQLite database per test, a stopped clock, the services of
people with a clock of their own, and two nodes on one database of each kind."""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tokend.bootstrap import Services, bootstrap
from tokend.domain.accounts import User
from tokend.domain.audit import Requester
from tokend.domain.principal import Principal
from tokend.service.accounts import AccountService
from tokend.service.device import DeviceService
from tokend.service.rate_limit import RateLimiter
from tokend.service.sessions import SessionService
from tokend.service.tokens import TokenService
from tokend.settings import Settings
from tokend.storage.failure_counters import InProcessFailureCounter
from tokend.storage.migrate import upgrade

FROZEN = 1_800_000_000_000


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    services = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'svc.db'}"))
    upgrade(services.engine)
    yield services
    services.close()


@pytest.fixture
def frozen(services: Services) -> TokenService:
    """The token service with time stopped: every token is made in the same millisecond."""
    return TokenService(
        uow=services.tokens.uow,
        secret_format=services.tokens.secret_format,
        digester=services.tokens.digester,
        clock=lambda: FROZEN,
    )


@pytest.fixture
def principal(services: Services) -> Principal:
    created = services.admin.create_user("alice")
    return services.authenticator.authenticate(created.issued.secret)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, now: int = FROZEN) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


PASSWORD = "a fine passphrase"
# Each call a new address, so that the address limit (a few failures) is met only
# where a test means to meet it.
_addresses = itertools.count(1)


def address() -> Requester:
    n = next(_addresses)
    return Requester(ip=f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}", user_agent="pytest")


ADDRESS_LIMIT = 5  # failures per address per minute, for the people services below


@dataclass(frozen=True)
class People:
    """The services of people (sessions, accounts, device logins) on one database, with
    a clock of their own and an address limit low enough to reach in a test."""

    services: Services
    clock: ManualClock
    limiter: RateLimiter
    sessions: SessionService
    accounts: AccountService
    devices: DeviceService

    def user(self, username: str = "alice", password: str | None = PASSWORD) -> User:
        created = self.services.admin.create_user(username).user
        if password is not None:
            self.accounts.set_password(username, password)
        return created


def people_of(services: Services, clock: ManualClock | None = None) -> People:
    clock = clock or ManualClock()
    limiter = RateLimiter(InProcessFailureCounter(), limit=ADDRESS_LIMIT, window_s=60, clock=clock)
    sessions = replace(services.sessions, clock=clock, address_limiter=limiter)
    return People(
        services=services,
        clock=clock,
        limiter=limiter,
        sessions=sessions,
        accounts=replace(services.accounts, clock=clock, sessions=sessions),
        devices=replace(services.devices, clock=clock, address_limiter=limiter),
    )


@pytest.fixture
def people(services: Services) -> People:
    return people_of(services)


@pytest.fixture
def nodes(database_url: str) -> Iterator[tuple[Services, Services]]:
    """Two processes' services on one database (SQLite and PostgreSQL), as two nodes
    behind a load balancer share it."""
    first = bootstrap(Settings(database_url=database_url))
    upgrade(first.engine)
    second = bootstrap(Settings(database_url=database_url))
    yield first, second
    first.close()
    second.close()
