"""The outbox's leases on both databases, with senders racing as nodes do: each due
delivery goes to one sender at a time, a lease that ran out passes to another, and
the sender that lost it can no longer write its attempt."""

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import database
from tokend.bootstrap import Services, bootstrap
from tokend.domain import ids
from tokend.domain.webhooks import Attempt, Delivery, DeliveryStatus, Webhook
from tokend.settings import Settings
from tokend.storage.migrate import upgrade
from tokend.storage.unit_of_work import SqlUnitOfWorkFactory

NOW = 1_900_000_000_000
LEASE_MS = 30_000


@pytest.fixture
def services(backend: str, tmp_path: Path) -> Iterator[Services]:
    """A database of the test's own: no server's sender takes its deliveries."""
    with database(backend, tmp_path) as url:
        services = bootstrap(Settings(database_url=url))
        try:
            upgrade(services.engine)
            yield services
        finally:
            services.close()


def _webhook(services: Services) -> Webhook:
    user = services.admin.create_user(f"outbox-{uuid.uuid4().hex[:8]}").user
    webhook = Webhook(
        id=ids.new_webhook_id(),
        user_id=user.id,
        team_id=None,
        url="https://hooks.example.com/in",
        events=("token.created",),
        created_at=NOW,
    )
    with SqlUnitOfWorkFactory(services.engine)(write=True) as uow:
        uow.webhooks.add(webhook, b"secret", sealed=False)
        uow.commit()
    return webhook


def _queue(services: Services, webhook: Webhook, count: int, due: int = NOW) -> list[str]:
    deliveries = [
        Delivery(
            id=ids.new_delivery_id(),
            webhook_id=webhook.id,
            event_type="token.created",
            payload="{}",
            created_at=NOW,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=due,
        )
        for _ in range(count)
    ]
    with SqlUnitOfWorkFactory(services.engine)(write=True) as uow:
        uow.webhooks.add_deliveries(deliveries)
        uow.commit()
    return [delivery.id for delivery in deliveries]


def _claim(services: Services, now: int, limit: int = 100) -> list[str]:
    with SqlUnitOfWorkFactory(services.engine)(write=True) as uow:
        claimed = uow.webhooks.claim_due(now, now + LEASE_MS, limit)
        uow.commit()
    return [item.delivery.id for item in claimed]


def test_racing_senders_each_get_their_own_deliveries(services: Services) -> None:
    queued = _queue(services, _webhook(services), 60)
    # Another process's services on the same database: its own engine and pool.
    other = bootstrap(Settings(database_url=services.settings.database_url))
    taken: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def sender(on: Services) -> None:
        start.wait()
        while batch := _claim(on, NOW, limit=3):
            with lock:
                taken.extend(batch)

    try:
        threads = [threading.Thread(target=sender, args=(on,)) for on in (services, other) * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        other.close()
    assert Counter(taken).most_common(1)[0][1] == 1  # none claimed twice
    assert sorted(taken) == sorted(queued)


def test_a_lease_that_ran_out_passes_on_and_the_first_sender_cannot_write(
    services: Services,
) -> None:
    [delivery_id] = _queue(services, _webhook(services), 1)
    assert _claim(services, NOW) == [delivery_id]
    assert _claim(services, NOW + LEASE_MS - 1) == []  # still leased
    later = NOW + LEASE_MS + 1
    assert _claim(services, later) == [delivery_id]  # the first sender died, say
    attempt = Attempt(attempted_at=later, duration_ms=5, status_code=200, error=None)
    done = DeliveryStatus.DELIVERED
    with SqlUnitOfWorkFactory(services.engine)(write=True) as uow:
        lost = NOW + LEASE_MS
        assert not uow.webhooks.record_attempt(
            delivery_id, lost, attempt, status=done, next_attempt_at=later
        )
        assert uow.webhooks.record_attempt(
            delivery_id, later + LEASE_MS, attempt, status=done, next_attempt_at=later
        )
        uow.commit()
    assert _claim(services, later + 10 * LEASE_MS) == []  # delivered: never again


def test_only_due_deliveries_are_claimed(services: Services) -> None:
    webhook = _webhook(services)
    [due] = _queue(services, webhook, 1)
    _queue(services, webhook, 1, due=NOW + 60_000)
    assert _claim(services, NOW) == [due]
