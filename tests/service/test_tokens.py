"""The token use cases on a real SQLite database, with a clock the test controls."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tokend.bootstrap import Services, bootstrap
from tokend.domain.errors import NotFound
from tokend.domain.principal import Principal
from tokend.service.tokens import TokenService
from tokend.settings import Settings
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


def test_tokens_of_one_millisecond_get_distinct_cursors(
    frozen: TokenService, principal: Principal
) -> None:
    made = [frozen.create(principal, name=f"t{i}").token for i in range(5)]
    assert [token.created_at for token in made] == [FROZEN + i for i in range(5)]


def test_paging_with_a_stopped_clock_visits_each_token_once(
    frozen: TokenService, principal: Principal
) -> None:
    made = {frozen.create(principal, name=f"t{i}").token.id for i in range(10)}
    seen: list[str] = []
    page = frozen.list(principal, limit=3)
    seen += [token.id for token in page.tokens]
    while page.next is not None:
        page = frozen.list(principal, limit=3, until=page.next)
        seen += [token.id for token in page.tokens]
    assert len(seen) == len(set(seen)) == 11
    assert made | {principal.token.id} == set(seen)


def test_revoked_tokens_vanish_and_cannot_be_revoked_twice(
    services: Services, principal: Principal
) -> None:
    token = services.tokens.create(principal, name="gone").token
    assert services.tokens.revoke(principal, token.id) == token.id
    with pytest.raises(NotFound):
        services.tokens.get(principal, token.id)
    with pytest.raises(NotFound):
        services.tokens.revoke(principal, token.id)
    assert token.id not in [t.id for t in services.tokens.list(principal, limit=100).tokens]


def test_issued_token_repr_hides_the_secret(services: Services, principal: Principal) -> None:
    issued = services.tokens.create(principal, name="quiet")
    assert issued.secret not in repr(issued)
    assert issued.secret not in str(issued)
