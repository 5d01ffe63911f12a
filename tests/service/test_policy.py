"""Lifecycle policy at the service level, with a clock that moves only when told to:
maximum lifetime, required expiry, inactivity expiry, teams' policies, the service
accounts' exemption, and rotation with overlap."""

from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.service.conftest import FROZEN, ManualClock, people_of
from tokend.bootstrap import Services, bootstrap
from tokend.domain.audit import EventType
from tokend.domain.errors import ExpiredToken, InactiveToken, RevokedToken, ValidationFailed
from tokend.domain.policy import UNASKED_LIFETIME_MS, Policy, PolicyRules, stricter
from tokend.domain.principal import Person, Principal
from tokend.domain.scopes import Scope
from tokend.service.authentication import Authenticator
from tokend.service.tokens import TeamRef, TokenService
from tokend.settings import Settings
from tokend.storage.migrate import upgrade

SECRET = SecretStr("a-secret-of-more-than-thirty-two-characters")
DAY = 86_400_000
HOUR = 3_600_000


def policed(
    services: Services, clock: ManualClock, **policy: int | bool | None
) -> tuple[TokenService, Authenticator]:
    """The token service and authenticator under an instance policy, on ``clock``."""
    applies = bool(policy.pop("applies_to_services", False))
    rules = PolicyRules(instance=Policy(**policy), applies_to_services=applies)  # type: ignore[arg-type]
    tokens = replace(services.tokens, clock=clock, policy=rules)
    authenticator = replace(services.authenticator, clock=clock, policy=rules)
    return tokens, authenticator


def alice(services: Services, tokens: TokenService, authenticator: Authenticator) -> Principal:
    """A user made at the clock's time, authenticated with her first token."""
    admin = replace(services.admin, tokens=tokens, clock=tokens.clock)
    created = admin.create_user("alice")
    return authenticator.authenticate(created.issued.secret)


def test_stricter_takes_each_rule_from_the_stricter_policy() -> None:
    a = Policy(max_lifetime_ms=90 * DAY, inactivity_ms=None, require_expiry=False)
    b = Policy(max_lifetime_ms=365 * DAY, inactivity_ms=30 * DAY, require_expiry=True)
    assert stricter(a, b) == Policy(90 * DAY, 30 * DAY, True)
    assert stricter(b, a) == stricter(a, b)
    assert stricter(a, None) == a


def test_create_beyond_the_maximum_lifetime_is_refused_naming_it(services: Services) -> None:
    clock = ManualClock()
    tokens, authenticator = policed(services, clock, max_lifetime_ms=90 * DAY)
    principal = alice(services, tokens, authenticator)
    with pytest.raises(ValidationFailed, match="maximum token lifetime of 90 days"):
        tokens.create(principal, name="too long", expires_at=FROZEN + 90 * DAY + 1)
    kept = tokens.create(principal, name="within", expires_at=FROZEN + 90 * DAY)
    assert kept.token.expires_at == FROZEN + 90 * DAY
    default = tokens.create(principal, name="no expiry asked")
    assert default.token.expires_at == FROZEN + 90 * DAY


def test_required_expiry_without_a_limit(services: Services) -> None:
    clock = ManualClock()
    tokens, authenticator = policed(services, clock, require_expiry=True)
    principal = alice(services, tokens, authenticator)
    with pytest.raises(ValidationFailed, match="expiresAt is required"):
        tokens.create(principal, name="forever")
    assert tokens.create(principal, name="dated", expires_at=FROZEN + DAY).token.expires_at
    # Where nobody can be asked (an operator's bootstrap token, a rotation of a token
    # without expiry, a device login), the default lifetime applies instead.
    admin = replace(services.admin, tokens=tokens)
    bob = admin.create_user("bob")
    assert bob.issued.token.expires_at == FROZEN + UNASKED_LIFETIME_MS


def test_existing_tokens_are_never_shortened_but_rotation_is_capped(services: Services) -> None:
    clock = ManualClock()
    free, authenticator = policed(services, clock)
    principal = alice(services, free, authenticator)
    forever = free.create(principal, name="forever")
    year = free.create(principal, name="a year", expires_at=FROZEN + 365 * DAY)

    tokens, authenticator = policed(services, clock, max_lifetime_ms=30 * DAY)
    # Still listed as made, and still working.
    listed = {t.id: t for t in tokens.list(principal).tokens}
    assert listed[forever.token.id].expires_at is None
    assert listed[year.token.id].expires_at == FROZEN + 365 * DAY
    assert authenticator.authenticate(year.secret).token.id == year.token.id

    clock.advance(1000)
    assert tokens.rotate(principal, forever.token.id).token.expires_at == clock.now + 30 * DAY
    assert tokens.rotate(principal, year.token.id).token.expires_at == clock.now + 30 * DAY
    short = tokens.create(principal, name="a day", expires_at=clock.now + DAY)
    clock.advance(1000)
    # A lifetime within the limit is kept: the same length, from now (createdAt is kept
    # unique per user, so it may be a millisecond or two later than the clock).
    length = short.token.expires_at - short.token.created_at  # type: ignore[operator]
    assert tokens.rotate(principal, short.token.id).token.expires_at == clock.now + length


def test_team_policy_stricter_than_the_instance_and_the_other_way(services: Services) -> None:
    clock = ManualClock()
    tokens, authenticator = policed(services, clock, max_lifetime_ms=90 * DAY)
    principal = alice(services, tokens, authenticator)
    services.admin.create_team("acme", owner="alice")
    services.admin.create_team("lax", owner="alice")
    services.policies.set_team_policy("acme", max_lifetime_ms=7 * DAY, require_expiry=True)
    services.policies.set_team_policy("lax", max_lifetime_ms=365 * DAY)

    acme = tokens.create(principal, name="acme", team=TeamRef(slug="acme"))
    assert acme.token.expires_at == FROZEN + 7 * DAY
    with pytest.raises(ValidationFailed, match="7 days"):
        tokens.create(principal, name="x", team=TeamRef(slug="acme"), expires_at=FROZEN + 8 * DAY)
    # The instance's 90 days still bind the lax team.
    with pytest.raises(ValidationFailed, match="90 days"):
        tokens.create(principal, name="x", team=TeamRef(slug="lax"), expires_at=FROZEN + 91 * DAY)
    # A personal token obeys the instance only.
    personal = tokens.create(principal, name="mine", expires_at=FROZEN + 60 * DAY)
    assert personal.token.expires_at == FROZEN + 60 * DAY

    shown = services.policies.team_policy("acme")
    assert shown.own == Policy(7 * DAY, None, True)
    cleared = services.policies.set_team_policy("acme", clear=True)
    assert cleared.own is None
    assert services.policies.team_policy("acme").own is None


def test_service_accounts_are_exempt_unless_the_operator_says_so(services: Services) -> None:
    clock = ManualClock()
    for applies in (False, True):
        tokens, authenticator = policed(
            services, clock, max_lifetime_ms=DAY, inactivity_ms=HOUR, applies_to_services=applies
        )
        admin = replace(services.admin, tokens=tokens)
        made = admin.create_service(f"billing-{str(applies).lower()}")
        assert made.issued.token.expires_at == (clock.now + DAY if applies else None)
        authenticator.authenticate(made.issued.secret)
        clock.advance(2 * HOUR)
        if applies:
            with pytest.raises(InactiveToken):
                authenticator.authenticate(made.issued.secret)
        else:
            authenticator.authenticate(made.issued.secret)


def test_device_and_integration_tokens_are_capped(tmp_path: Path) -> None:
    services = bootstrap(
        Settings(database_url=f"sqlite:///{tmp_path / 'oidc.db'}", signing_key_secret=SECRET)
    )
    upgrade(services.engine)
    try:
        _device_and_integration_tokens_are_capped(services)
    finally:
        services.close()


def _device_and_integration_tokens_are_capped(services: Services) -> None:
    clock = ManualClock()
    tokens, authenticator = policed(services, clock, max_lifetime_ms=HOUR // 2)
    people = people_of(services, clock)
    devices = replace(people.devices, tokens=tokens)
    people.user("carol")
    person = people.sessions.sign_in("carol", "a fine passphrase").person
    grant = devices.start("tokend-cli", name="laptop")
    devices.decide(person, grant.user_code, approve=True)
    issued = devices.poll(grant.device_code, "tokend-cli")
    assert issued.token.expires_at == FROZEN + HOUR // 2

    # OAuth access tokens (default 1 hour) are cut to the same 30 minutes.
    provider = replace(services.provider, clock=clock, tokens=tokens)
    principal = authenticator.authenticate(issued.secret)
    made = services.integrations.create("App", redirect_uris=["https://app.example/cb"])
    request = provider.check_request(
        {"client_id": made.integration.client_id, "response_type": "code", "scope": "openid"}
    )
    location = provider.approve(Person(principal.user, "ses_x"), request, auth_time=clock())
    code = location.split("code=")[1].split("&")[0]
    answer = provider.exchange_code(made.integration, code)
    app_token = authenticator.authenticate(answer.access_token).token
    assert app_token.expires_at == FROZEN + HOUR // 2
    assert answer.expires_in == HOUR // 2 // 1000  # what the app is told, too


def test_an_unused_token_expires_and_a_used_one_lives(services: Services) -> None:
    clock = ManualClock()
    tokens, authenticator = policed(services, clock, inactivity_ms=HOUR)
    principal = alice(services, tokens, authenticator)
    used = tokens.create(principal, name="used")
    idle = tokens.create(principal, name="idle")
    authenticator.authenticate(idle.secret)  # cached now: the limit is checked from the cache
    for _ in range(4):
        clock.advance(HOUR // 2)
        authenticator.authenticate(used.secret)
        services.authenticator.activity.flush()
    with pytest.raises(InactiveToken, match="expired after 1 hour without use"):
        authenticator.authenticate(idle.secret)
    assert isinstance(InactiveToken("x"), ExpiredToken)  # a 401 like any expiry
    listed = {t.name: t for t in tokens.list(principal).tokens}
    assert listed["idle"].is_inactive(clock.now)
    assert not listed["used"].is_inactive(clock.now)
    assert listed["idle"].inactivity_expires_at == idle.token.created_at + HOUR


def test_a_team_inactivity_limit_is_read_with_the_token(services: Services) -> None:
    clock = ManualClock()
    tokens, authenticator = policed(services, clock)
    principal = alice(services, tokens, authenticator)
    services.admin.create_team("acme", owner="alice")
    services.policies.set_team_policy("acme", inactivity_ms=HOUR)
    team = tokens.create(principal, name="team", team=TeamRef(slug="acme"))
    personal = tokens.create(principal, name="personal")
    clock.advance(HOUR + 10)  # createdAt may be a few ms past the clock (kept unique)
    with pytest.raises(InactiveToken):
        authenticator.authenticate(team.secret)
    authenticator.authenticate(personal.secret)


def test_rotation_with_overlap_keeps_the_old_token_until_then(services: Services) -> None:
    clock = ManualClock()
    tokens, authenticator = policed(services, clock)
    principal = alice(services, tokens, authenticator)
    old = tokens.create(principal, name="deploy", expires_at=FROZEN + 30 * DAY)
    authenticator.authenticate(old.secret)  # cached with its 30 days

    new = tokens.rotate(principal, old.token.id, overlap_ms=10 * 60_000)
    length = FROZEN + 30 * DAY - old.token.created_at
    assert new.token.expires_at == FROZEN + length  # the same length, from now
    clock.advance(10 * 60_000 - 1)
    assert authenticator.authenticate(old.secret).token.expires_at == FROZEN + 10 * 60_000
    authenticator.authenticate(new.secret)
    clock.advance(1)
    with pytest.raises(ExpiredToken):
        authenticator.authenticate(old.secret)
    authenticator.authenticate(new.secret)

    events = services.audit.list(principal, limit=10).events
    rotated = next(e for e in events if e.type is EventType.TOKEN_ROTATED)
    assert rotated.token is not None
    assert rotated.token.expires_at == FROZEN + 10 * 60_000
    assert rotated.token.revoked_at is None


def test_overlap_never_lengthens_and_is_at_most_a_day(services: Services) -> None:
    clock = ManualClock()
    tokens, authenticator = policed(services, clock)
    principal = alice(services, tokens, authenticator)
    soon = tokens.create(principal, name="soon", expires_at=FROZEN + 60_000)
    tokens.rotate(principal, soon.token.id, overlap_ms=HOUR)
    assert authenticator.authenticate(soon.secret).token.expires_at == FROZEN + 60_000
    other = tokens.create(principal, name="other")
    for bad in (0, -1, 24 * HOUR + 1):
        with pytest.raises(ValidationFailed, match="overlapMs"):
            tokens.rotate(principal, other.token.id, overlap_ms=bad)
    tokens.rotate(principal, other.token.id, overlap_ms=24 * HOUR)
    # Without overlap, rotation revokes at once, as before.
    again = tokens.create(principal, name="again")
    tokens.rotate(principal, again.token.id)
    with pytest.raises(RevokedToken):
        authenticator.authenticate(again.secret)


def test_a_new_token_carries_the_policy_in_force(services: Services) -> None:
    clock = ManualClock()
    tokens, authenticator = policed(services, clock, inactivity_ms=30 * DAY)
    principal = alice(services, tokens, authenticator)
    with services.tokens.uow(write=True) as uow:
        issued = tokens.issue(uow, user_id=principal.user.id, name="x", scope=Scope.user())
        uow.commit()
    assert issued.token.inactivity_ms == 30 * DAY
