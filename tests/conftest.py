"""Fixtures shared by every test folder.

`backend` runs a test on SQLite and on PostgreSQL. The PostgreSQL database is
created for the run and dropped afterwards; under CI=true an unreachable server
fails the run instead of skipping.
"""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from tests.support import Server, database
from tokend.bootstrap import Services, bootstrap
from tokend.settings import Settings
from tokend.storage.migrate import upgrade

# Fixtures of the webhook tests (api, cli, web), where their receiver lives.
pytest_plugins = ("tests.webhook_receiver",)

# Seals the id_token signing keys of the test servers (Sign in with tokend).
SIGNING_KEY_SECRET = "test-signing-key-secret-not-for-production"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with database(backend, tmp_path_factory.mktemp(backend)) as url:
        yield url


@pytest.fixture(scope="session")
def services(database_url: str) -> Iterator[Services]:
    """In-process services on the test database, for setting up users and teams."""
    services = bootstrap(
        Settings(database_url=database_url, signing_key_secret=SecretStr(SIGNING_KEY_SECRET))
    )
    upgrade(services.engine)
    yield services
    services.close()


@pytest.fixture(scope="session")
def server(
    services: Services, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("server") / "tokend.log"
    # Every test shares this server and sends bad tokens, and asks for device codes,
    # from 127.0.0.1: those limits are tested on servers of their own
    # (tests/api/test_rate_limit.py, tests/api/test_device_flow.py).
    env = {
        "TOKEND_RATE_LIMIT_FAILURES": "1000000000",
        "TOKEND_DEVICE_CODES_PER_ADDRESS": "0",
        "TOKEND_SIGNING_KEY_SECRET": SIGNING_KEY_SECRET,
    }
    with Server(database_url=database_url, log_path=log, env=env) as running:
        yield running


@dataclass(frozen=True)
class Account:
    username: str
    user_id: str
    token: str
    token_id: str


@pytest.fixture
def make_user(services: Services) -> Callable[..., Account]:
    def make(prefix: str = "user") -> Account:
        username = f"{prefix}-{uuid.uuid4().hex[:10]}"
        created = services.admin.create_user(username)
        return Account(username, created.user.id, created.issued.secret, created.issued.token.id)

    return make


@pytest.fixture
def alice(make_user: Callable[..., Account]) -> Account:
    return make_user("alice")
