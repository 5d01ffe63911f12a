"""Services on a fresh SQLite database per test, and a stopped clock."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tokend.bootstrap import Services, bootstrap
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
