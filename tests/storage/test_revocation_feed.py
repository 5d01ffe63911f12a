"""The revocation feed between two processes' worth of services on one database:
SQLite polling its log, PostgreSQL LISTEN/NOTIFY. Caches live for an hour here, so
only the feed can make the second one drop a token."""

import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import delete, text

from tests.support import eventually
from tokend.bootstrap import Services, bootstrap
from tokend.domain.errors import RevokedToken
from tokend.settings import Settings
from tokend.storage.schema import token_revocations


@pytest.fixture
def other(database_url: str) -> Iterator[Services]:
    """A second set of services on the test database, as another process would have."""
    services = bootstrap(Settings(database_url=database_url, cache_ttl_s=3600))
    services.start()
    yield services
    services.close()


def rejects(services: Services, secret: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            services.authenticator.authenticate(secret)
        except RevokedToken:
            return True
        return False

    return check


def test_a_revocation_reaches_the_other_process(services: Services, other: Services) -> None:
    created = services.admin.create_user(f"feed-{time.monotonic_ns()}")
    secret = created.issued.secret
    principal = services.authenticator.authenticate(secret)
    other.authenticator.authenticate(secret)
    assert len(other.authenticator.cache) >= 1

    services.tokens.revoke(principal, "current")

    assert eventually(rejects(other, secret))


def test_a_gap_in_what_was_heard_empties_the_cache(
    backend: str, services: Services, other: Services
) -> None:
    secret = services.admin.create_user(f"gap-{time.monotonic_ns()}").issued.secret
    other.authenticator.authenticate(secret)
    cache = other.authenticator.cache
    assert len(cache) == 1
    with services.engine.begin() as conn:
        if backend == "sqlite":
            # Two revocations whose log rows are pruned before the poller reads them.
            for token_id in ("a" * 24, "b" * 24):
                conn.execute(token_revocations.insert().values(token_id=token_id, revoked_at=1))
            conn.execute(delete(token_revocations).where(token_revocations.c.revoked_at == 1))
            conn.execute(token_revocations.insert().values(token_id="c" * 24, revoked_at=2))
        else:
            # The listener's connection dies: what was sent meanwhile is unknown.
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'tokend revocation feed' "
                    "AND datname = current_database()"
                )
            )
    assert eventually(lambda: len(cache) == 0, seconds=10)


def test_no_cached_answer_while_the_feed_reconnects(
    backend: str, services: Services, other: Services
) -> None:
    if backend != "postgresql":
        pytest.skip("the SQLite feed has no connection to lose")
    created = services.admin.create_user(f"deaf-{time.monotonic_ns()}")
    secret = created.issued.secret
    principal = services.authenticator.authenticate(secret)
    other.authenticator.authenticate(secret)
    assert eventually(lambda: other.authenticator.hit(secret) is not None)
    with services.engine.begin() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'tokend revocation feed' "
                "AND datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    # Lost, and reconnecting (which waits a second): nothing is answered from memory,
    # so a revocation made meanwhile, which this feed never hears, is seen at once.
    assert eventually(lambda: other.authenticator.hit(secret) is None)
    services.tokens.revoke(principal, "current")
    with pytest.raises(RevokedToken):
        other.authenticator.authenticate(secret)
