"""Verification on a real SQLite database, counting the SQL it sends: malformed secrets
never reach it, a cache hit costs nothing, unknown secrets are looked up once."""

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tokend.bootstrap import Services, bootstrap
from tokend.domain.errors import (
    ExpiredToken,
    MalformedSecret,
    MissingToken,
    RevokedToken,
    UnknownToken,
)
from tokend.domain.secret import SecretFormat
from tokend.service.authentication import Authenticator
from tokend.settings import Settings
from tokend.storage.migrate import upgrade

NOW = 1_800_000_000_000


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_: Any) -> None:
        self.count += 1


def count_statements(services: Services) -> StatementCounter:
    """Counts every statement SQLite itself runs, however it was sent (the hot look-up
    uses the driver's cursor directly, below SQLAlchemy's events)."""
    counter = StatementCounter()
    services.engine.dispose()  # new connections, each traced from its start

    @event.listens_for(services.engine, "connect")
    def trace(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(counter)

    return counter


@pytest.fixture
def statements(services: Services) -> StatementCounter:
    return count_statements(services)


@pytest.fixture
def secret(services: Services) -> str:
    return services.admin.create_user("alice").issued.secret


def malformed(good: str) -> list[str | None]:
    body = good[4:]
    flipped = body[:-1] + ("A" if body[-1] != "A" else "B")
    return [
        None,
        "",
        good[:-1],  # too short
        good + "x",  # too long
        "GHP_" + body,  # not a prefix tokend could have issued (uppercase)
        "a-b_" + body,
        "ghp_" + flipped,  # a prefix of the right shape (an earlier one?), bad checksum
        "tkd_" + flipped,  # checksum does not match
        "tkd_" + body[:-1] + "-",  # outside the alphabet
        "tkd_" + body[:-1] + "é",
        "x" * 100_000,
    ]


def test_malformed_secrets_never_reach_the_database(
    services: Services, secret: str, statements: StatementCounter
) -> None:
    for candidate in malformed(secret):
        with pytest.raises((MalformedSecret, MissingToken)):
            services.authenticator.authenticate(candidate)
    assert statements.count == 0


def test_a_cache_hit_costs_no_database_round_trip(
    services: Services, secret: str, statements: StatementCounter
) -> None:
    first = services.authenticator.authenticate(secret)
    after_miss = statements.count
    assert after_miss > 0
    for _ in range(100):
        assert services.authenticator.authenticate(secret) == first
    assert statements.count == after_miss


def test_an_unknown_secret_is_looked_up_once(
    services: Services, statements: StatementCounter
) -> None:
    unknown = SecretFormat().generate()
    with pytest.raises(UnknownToken):
        services.authenticator.authenticate(unknown)
    after_miss = statements.count
    assert after_miss > 0
    for _ in range(50):
        with pytest.raises(UnknownToken):
            services.authenticator.authenticate(unknown)
    assert statements.count == after_miss


def test_without_a_cache_every_verification_reads_the_database(
    tmp_path: Path,
) -> None:
    services = bootstrap(
        Settings(database_url=f"sqlite:///{tmp_path / 'nocache.db'}", cache_size=0)
    )
    upgrade(services.engine)
    secret = services.admin.create_user("bob").issued.secret
    counter = count_statements(services)
    services.authenticator.authenticate(secret)
    per_call = counter.count
    assert per_call > 0
    for _ in range(4):
        services.authenticator.authenticate(secret)
    assert counter.count == 5 * per_call
    services.close()


def test_a_revocation_in_this_process_is_seen_at_once(
    services: Services, secret: str, statements: StatementCounter
) -> None:
    principal = services.authenticator.authenticate(secret)  # now cached
    services.tokens.revoke(principal, "current")

    with pytest.raises(RevokedToken):
        services.authenticator.authenticate(secret)
    settled = statements.count
    with pytest.raises(RevokedToken):  # the dead token is cached too
        services.authenticator.authenticate(secret)
    assert statements.count == settled


def test_expiry_needs_no_notification(services: Services, secret: str) -> None:
    principal = services.authenticator.authenticate(secret)
    expiring = services.tokens.create(principal, name="short", expires_at=NOW + 1000).secret
    clock = {"now": NOW}
    authenticator: Authenticator = replace(services.authenticator, clock=lambda: clock["now"])

    authenticator.authenticate(expiring)  # cached while live
    clock["now"] = NOW + 1000
    with pytest.raises(ExpiredToken):
        authenticator.authenticate(expiring)


def test_uses_are_noted_once_per_window_and_written_in_one_batch(
    services: Services, secret: str
) -> None:
    owner = services.authenticator.authenticate(secret)
    made = [services.tokens.create(owner, name=f"t{i}") for i in range(3)]
    others = [issued.secret for issued in made]
    # Time stands still at the newest creation (creation times are unique per user, so
    # they may run a few milliseconds ahead of the wall clock).
    clock = {"now": max(issued.token.created_at for issued in made)}
    authenticator: Authenticator = replace(services.authenticator, clock=lambda: clock["now"])
    activity = authenticator.activity
    activity.flush()

    for _ in range(10):  # many uses of four tokens inside one window
        for each in [secret, *others]:
            authenticator.authenticate(each)
    assert activity.pending == 0  # all of them were used within the window already

    clock["now"] += activity.resolution_ms
    for each in [secret, *others]:
        for _ in range(10):
            assert authenticator.authenticate(each).token.active_at == clock["now"]
    assert activity.pending == 4
    assert activity.flush() == 4
    assert activity.flush() == 0
    with services.tokens.uow() as uow:
        stored = uow.tokens.get(authenticator.authenticate(secret).token.id)
    assert stored is not None
    assert stored.active_at == clock["now"]
