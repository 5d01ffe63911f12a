"""No escalation: over random permission sets, a token creates another only when it
may write tokens, and the new one never holds more than its creator (never an
unrestricted one from a restricted creator); plus the catalogue's rules."""

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokend.bootstrap import Services, bootstrap
from tokend.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tokend.domain.permissions import BUILTIN
from tokend.domain.principal import Principal
from tokend.service.permissions import PermissionService
from tokend.settings import Settings
from tokend.storage.migrate import upgrade

CATALOGUE = ["deployments:read", "deployments:write", "billing:read"]
UNIVERSE = sorted([*BUILTIN, *CATALOGUE])
_names = itertools.count()


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Services:
    folder: Path = tmp_path_factory.mktemp("permissions")
    made = bootstrap(Settings(database_url=f"sqlite:///{folder / 'p.db'}"))
    upgrade(made.engine)
    for name in CATALOGUE:
        made.permissions.add(name, f"{name}, for the tests")
    return made


def _principal(services: Services, permissions: frozenset[str] | None) -> Principal:
    user = services.admin.create_user(f"p{next(_names)}")
    full = services.authenticator.authenticate(user.issued.secret)
    issued = services.tokens.create(
        full, name="holder", permissions=None if permissions is None else sorted(permissions)
    )
    return services.authenticator.authenticate(issued.secret)


permission_sets = st.one_of(st.none(), st.frozensets(st.sampled_from(UNIVERSE)))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(held=permission_sets, asked=permission_sets)
def test_a_token_never_makes_one_with_more_rights(
    services: Services, held: frozenset[str] | None, asked: frozenset[str] | None
) -> None:
    creator = _principal(services, held)
    may_write = held is None or "tokens:write" in held
    within = held is None or (asked is not None and asked <= held)
    try:
        made = services.tokens.create(
            creator, name="child", permissions=None if asked is None else sorted(asked)
        )
    except Forbidden:
        assert not (may_write and within)
        return
    assert may_write
    assert within
    assert made.token.permissions == asked
    if held is not None:
        assert made.token.permissions is not None
        assert made.token.permissions <= held
    # What is stored is what was granted.
    stored = services.authenticator.authenticate(made.secret).token.permissions
    assert stored == asked


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(held=permission_sets)
def test_rotation_keeps_the_permissions(services: Services, held: frozenset[str] | None) -> None:
    owner = _principal(services, None)
    issued = services.tokens.create(
        owner, name="r", permissions=None if held is None else sorted(held)
    )
    successor = services.tokens.rotate(owner, issued.token.id)
    assert successor.token.permissions == held


def test_unknown_and_malformed_names_are_refused(services: Services) -> None:
    owner = _principal(services, None)
    with pytest.raises(ValidationFailed, match="Unknown permission: nope:read"):
        services.tokens.create(owner, name="x", permissions=["nope:read"])
    for bad in ("Deployments:read", "deployments read", ":read", "a" * 65, "a:"):
        with pytest.raises(ValidationFailed):
            services.tokens.create(owner, name="x", permissions=[bad])
    with pytest.raises(ValidationFailed, match="at most 50"):
        services.tokens.create(owner, name="x", permissions=[f"p{n}" for n in range(51)])


def test_the_catalogue(services: Services) -> None:
    services.permissions.add("reports:export", "Export reports.")
    with pytest.raises(Conflict):
        services.permissions.add("reports:export", "again")
    with pytest.raises(Conflict):
        services.permissions.add("tokens:read", "tokend's own")
    names = [permission.name for permission in services.permissions.list()]
    assert names[: len(BUILTIN)] == sorted(BUILTIN)
    assert "reports:export" in names
    owner = _principal(services, None)
    holder = services.tokens.create(owner, name="x", permissions=["reports:export"])
    services.permissions.remove("reports:export")
    # Tokens that hold it keep it; new ones cannot ask for it.
    kept = services.authenticator.authenticate(holder.secret).token.permissions
    assert kept == frozenset({"reports:export"})
    with pytest.raises(ValidationFailed):
        services.tokens.create(owner, name="y", permissions=["reports:export"])
    with pytest.raises(NotFound):
        services.permissions.remove("reports:export")
    with pytest.raises(Conflict):
        services.permissions.remove("tokens:write")


def test_the_checks_known_names_are_read_once_then_trusted_a_while(
    services: Services,
) -> None:
    # A service of its own over the same database: what it has read is its own.
    fresh = PermissionService(uow=services.permissions.uow)
    assert fresh.known_now(frozenset())
    assert fresh.known_now(frozenset({"user:read"}))  # tokend's own: never looked up
    assert not fresh.known_now(frozenset({"deployments:read"}))
    fresh.ensure_known(frozenset({"deployments:read"}))
    assert fresh.known_now(frozenset({"deployments:read"}))
    with pytest.raises(ValidationFailed, match="Unknown permission: nothing:here"):
        fresh.ensure_known(frozenset({"deployments:read", "nothing:here"}))
    assert not fresh.known_now(frozenset({"nothing:here"}))  # an unknown name is not kept

    # Removed from the catalogue: trusted until the names are read again.
    name = f"gone{next(_names)}:read"
    services.permissions.add(name, "soon removed")
    forgetful = PermissionService(uow=services.permissions.uow, known_for_s=0.0)
    forgetful.ensure_known(frozenset({name}))
    services.permissions.remove(name)
    assert not forgetful.known_now(frozenset({name}))  # its time is up: read again
    with pytest.raises(ValidationFailed, match="Unknown permission"):
        forgetful.ensure_known(frozenset({name}))
