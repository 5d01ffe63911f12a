"""The provider's rules with a clock of their own: codes live 60 s, refresh tokens
their setting's lifetime; and the id_token signing keys: sealed at rest, made once
by one of many nodes, rotated with the old key kept published."""

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError
from joserfc.jwk import KeySet
from pydantic import SecretStr
from sqlalchemy import select

from tests.service.conftest import ManualClock
from tests.support import database
from tokend.bootstrap import Services, bootstrap
from tokend.domain.oauth import InvalidGrant
from tokend.domain.principal import Person
from tokend.domain.sealing import SealBroken
from tokend.service.provider import Provider
from tokend.service.signing import SigningUnavailable
from tokend.settings import Settings
from tokend.storage.migrate import upgrade
from tokend.storage.schema import signing_keys

SECRET = SecretStr("a-secret-of-more-than-thirty-two-characters")


def _services(url: str, secret: SecretStr | None = SECRET) -> Services:
    return bootstrap(
        Settings(database_url=url, signing_key_secret=secret, integration_refresh_ttl_s=600)
    )


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    made = _services(f"sqlite:///{tmp_path / 'provider.db'}")
    upgrade(made.engine)
    yield made
    made.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def provider(services: Services, clock: ManualClock) -> Provider:
    tokens = replace(services.tokens, clock=clock)
    return replace(services.provider, clock=clock, tokens=tokens)


def _code(provider: Provider, services: Services, scope: str = "openid") -> tuple[str, str]:
    """A code of a new person for a new integration; and the integration's client id."""
    user = services.admin.create_user("alice").user
    made = services.integrations.create("App", redirect_uris=["https://app.example/cb"])
    request = provider.check_request(
        {"client_id": made.integration.client_id, "response_type": "code", "scope": scope}
    )
    location = provider.approve(Person(user, "ses_x"), request, auth_time=provider.clock())
    code = location.split("code=")[1].split("&")[0]
    return code, made.integration.client_id


def test_a_code_expires_after_60_seconds(
    provider: Provider, services: Services, clock: ManualClock
) -> None:
    code, client_id = _code(provider, services)
    client = services.integrations.by_client_id(client_id)
    assert client is not None
    clock.advance(60_000)
    with pytest.raises(InvalidGrant, match="expired"):
        provider.exchange_code(client, code)


def test_a_code_just_inside_its_minute_works(
    provider: Provider, services: Services, clock: ManualClock
) -> None:
    code, client_id = _code(provider, services)
    client = services.integrations.by_client_id(client_id)
    assert client is not None
    clock.advance(59_999)
    assert provider.exchange_code(client, code).id_token


def test_a_refresh_token_expires(
    provider: Provider, services: Services, clock: ManualClock
) -> None:
    code, client_id = _code(provider, services, "openid offline_access")
    client = services.integrations.by_client_id(client_id)
    assert client is not None
    answer = provider.exchange_code(client, code)
    assert answer.refresh_token is not None
    clock.advance(600_000)
    with pytest.raises(InvalidGrant, match="expired"):
        provider.refresh(client, answer.refresh_token)


def test_private_keys_are_sealed_at_rest(services: Services) -> None:
    services.signing_keys.current()
    with services.engine.connect() as conn:
        stored = conn.execute(select(signing_keys.c.private_key)).scalars().all()
    assert len(stored) == 1
    assert b"PRIVATE KEY" not in stored[0]


def test_another_secret_cannot_open_the_keys(services: Services, tmp_path: Path) -> None:
    services.signing_keys.current()
    other = _services(
        f"sqlite:///{tmp_path / 'provider.db'}",
        SecretStr("another-secret-of-32-characters-or-more"),
    )
    try:
        with pytest.raises(SealBroken, match="TOKEND_SIGNING_KEY_SECRET"):
            other.signing_keys.current()
    finally:
        other.close()


def test_without_a_secret_the_provider_is_off(tmp_path: Path) -> None:
    off = _services(f"sqlite:///{tmp_path / 'off.db'}", None)
    upgrade(off.engine)
    try:
        with pytest.raises(SigningUnavailable, match="TOKEND_SIGNING_KEY_SECRET"):
            off.signing_keys.jwks()
        with pytest.raises(SigningUnavailable):
            off.provider.check_request({})
    finally:
        off.close()


def test_rotation_keeps_the_old_key_published_while_its_tokens_live(
    services: Services, clock: ManualClock
) -> None:
    keys = replace(services.signing_keys, clock=clock)
    old = keys.current()
    signed_before = old.sign({"sub": "x"})
    made = keys.rotate()
    assert keys.current().kid == made.kid != old.kid
    published = KeySet.import_key_set(keys.jwks())
    assert {key.kid for key in published} == {old.kid, made.kid}
    assert jwt.decode(signed_before, published).claims == {"sub": "x"}
    clock.advance(keys.keep_ms)
    assert [key["kid"] for key in keys.jwks()["keys"]] == [made.kid]
    # Past its tokens' lifetime the old key is gone: what it signed no longer verifies.
    with pytest.raises(InvalidKeyIdError, match=old.kid):
        jwt.decode(signed_before, KeySet.import_key_set(keys.jwks()))


def test_many_nodes_make_one_first_key_and_sign_with_the_newest(
    backend: str, tmp_path: Path
) -> None:
    with database(backend, tmp_path) as url:
        nodes = [_services(url) for _ in range(4)]
        upgrade(nodes[0].engine)
        try:
            _race_for_the_first_key(nodes)
        finally:
            for node in nodes:
                node.close()


def _race_for_the_first_key(nodes: list[Services]) -> None:
    made: list[str] = []
    start = threading.Barrier(len(nodes))

    def first_key(node: Services) -> None:
        start.wait()
        made.append(node.signing_keys.current().kid)

    threads = [threading.Thread(target=first_key, args=(node,)) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(made)) == 1
    rotated = nodes[0].signing_keys.rotate()
    assert {node.signing_keys.current().kid for node in nodes} == {rotated.kid}
