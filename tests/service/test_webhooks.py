"""Webhooks in the service layer, on both databases: pausing and re-enabling (what
happens to the outbox either way), adding for a team, and an add form sent twice."""

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from tokend.bootstrap import Services, bootstrap
from tokend.domain.errors import Forbidden, NotFound
from tokend.domain.principal import Person, Principal
from tokend.domain.webhooks import Webhook
from tokend.service.webhooks import FormAlreadyUsed, WebhookService
from tokend.settings import Settings
from tokend.storage.migrate import upgrade
from tokend.storage.schema import webhook_deliveries

from .conftest import FROZEN, ManualClock

# Allowed to these services only: a shared test server on the same database (a whole
# suite's run) refuses it at delivery, before any connection, so the deliveries this
# module leaves pending are never sent anywhere.
URL = "http://127.0.0.1:9/never-called"
DAY = 86_400_000


@pytest.fixture(scope="module")
def shared(database_url: str) -> Iterator[Services]:
    services = bootstrap(Settings(database_url=database_url))
    upgrade(services.engine)
    yield services
    services.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def hooks(shared: Services, clock: ManualClock) -> WebhookService:
    return replace(shared.webhooks, clock=clock, allow_private=True)


def _principal(services: Services, permissions: list[str] | None = None) -> Principal:
    created = services.admin.create_user(f"wh-{uuid.uuid4().hex[:10]}")
    full = services.authenticator.authenticate(created.issued.secret)
    if permissions is None:
        return full
    issued = services.tokens.create(full, name="restricted", permissions=permissions)
    return services.authenticator.authenticate(issued.secret)


def _statuses(services: Services, webhook: Webhook) -> list[str]:
    with services.engine.connect() as conn:
        query = select(webhook_deliveries.c.status).where(
            webhook_deliveries.c.webhook_id == webhook.id
        )
        return sorted(conn.execute(query).scalars())


def _make_token(services: Services, principal: Principal) -> None:
    services.tokens.create(principal, name=f"t-{uuid.uuid4().hex[:6]}")


def _fail_for(services: Services, webhook: Webhook, since: int) -> None:
    """The sender's doing when the webhook's receiver keeps failing."""
    with services.tokens.uow(write=True) as uow:
        uow.webhooks.mark_failing(webhook.id, since)
        uow.commit()


def test_a_disabled_webhook_is_turned_back_on_fresh(
    shared: Services, hooks: WebhookService, clock: ManualClock
) -> None:
    alice = _principal(shared)
    hook = hooks.create(alice, url=URL, events=["token.created"]).webhook
    _make_token(shared, alice)
    _fail_for(shared, hook, FROZEN)
    # The sender gives up on it after days of failures: the pending delivery fails.
    with shared.tokens.uow(write=True) as uow:
        assert uow.webhooks.disable(hook.id, FROZEN + 3 * DAY)
        uow.commit()
    assert _statuses(shared, hook) == ["failed"]
    _make_token(shared, alice)
    assert _statuses(shared, hook) == ["failed"]  # nothing queued while disabled

    clock.advance(4 * DAY)
    enabled = hooks.set_enabled(alice, hook.id, enabled=True)
    assert enabled.disabled_at is None
    assert enabled.failing_since is None
    assert hooks.get(alice, hook.id) == enabled
    assert _statuses(shared, hook) == ["failed"]  # what failed stays failed
    _make_token(shared, alice)
    assert _statuses(shared, hook) == ["failed", "pending"]


def test_pausing_fails_what_is_pending_and_queues_nothing(
    shared: Services, hooks: WebhookService, clock: ManualClock
) -> None:
    alice = _principal(shared)
    hook = hooks.create(alice, url=URL, events=["token.created"]).webhook
    _make_token(shared, alice)
    assert _statuses(shared, hook) == ["pending"]

    paused = hooks.set_enabled(alice, hook.id, enabled=False)
    assert paused.disabled_at == clock()
    assert not paused.wants("token.created")
    assert _statuses(shared, hook) == ["failed"]
    [delivery] = hooks.deliveries(alice, hook.id)
    assert delivery.last_error == "webhook disabled"
    _make_token(shared, alice)
    assert _statuses(shared, hook) == ["failed"]

    # Pausing again keeps the first instant; on again, events are queued again.
    clock.advance(1000)
    assert hooks.set_enabled(alice, hook.id, enabled=False).disabled_at == paused.disabled_at
    hooks.set_enabled(alice, hook.id, enabled=True)
    _make_token(shared, alice)
    assert _statuses(shared, hook) == ["failed", "pending"]


def test_turning_on_one_that_is_on_keeps_its_failing_clock(
    shared: Services, hooks: WebhookService
) -> None:
    alice = _principal(shared)
    hook = hooks.create(alice, url=URL, events=["token.leaked"]).webhook
    _fail_for(shared, hook, FROZEN - DAY)
    again = hooks.set_enabled(alice, hook.id, enabled=True)
    assert again.failing_since == FROZEN - DAY
    assert again.disabled_at is None


def test_only_its_owner_with_webhooks_write_may_switch_it(
    shared: Services, hooks: WebhookService
) -> None:
    alice = _principal(shared)
    hook = hooks.create(alice, url=URL, events=["token.leaked"]).webhook
    with pytest.raises(NotFound):
        hooks.set_enabled(_principal(shared), hook.id, enabled=False)
    with pytest.raises(NotFound):
        hooks.set_enabled(alice, "wh_doesnotexist", enabled=False)
    reader = shared.tokens.create(alice, name="reader", permissions=["webhooks:read"])
    with pytest.raises(Forbidden, match="webhooks:write"):
        hooks.set_enabled(shared.authenticator.authenticate(reader.secret), hook.id, enabled=False)
    assert hooks.get(alice, hook.id).disabled_at is None


def test_a_person_adds_a_webhook_for_one_of_their_teams_only(
    shared: Services, hooks: WebhookService
) -> None:
    alice = _principal(shared)
    person = Person(alice.user, "session")
    team = shared.admin.create_team(f"t-{alice.user.username[-10:]}", owner=alice.user.username)
    made = hooks.create(person, url=URL, events=["token.created"], team_id=team.id).webhook
    assert made.team_id == team.id
    assert [hook.id for hook in hooks.list_for(person)] == [made.id]

    mallory = Person(_principal(shared).user, "session")
    for team_id in (team.id, "team_doesnotexist"):
        with pytest.raises(Forbidden, match="not a member"):
            hooks.create(mallory, url=URL, events=["token.created"], team_id=team_id)
    assert hooks.list_for(mallory) == []


def test_an_add_form_sent_twice_adds_one(
    shared: Services, hooks: WebhookService, clock: ManualClock
) -> None:
    alice = _principal(shared)
    shown_at = clock()
    clock.advance(5)
    hooks.create(alice, url=URL, events=["token.created"], unless_created_since=shown_at)
    clock.advance(5)
    with pytest.raises(FormAlreadyUsed, match="sent twice"):
        hooks.create(alice, url=URL, events=["token.created"], unless_created_since=shown_at)
    assert len(hooks.list_for(alice)) == 1
    hooks.create(alice, url=URL, events=["token.created"], unless_created_since=clock())
    assert len(hooks.list_for(alice)) == 2
