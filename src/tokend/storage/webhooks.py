"""Webhooks, the delivery outbox and the attempts, in SQL."""

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from tokend.domain.webhooks import (
    ERROR_MAX_LENGTH,
    Attempt,
    Delivery,
    DeliveryStatus,
    Webhook,
)
from tokend.service.ports import ClaimedDelivery, OutboxDepth, StoredWebhook
from tokend.storage.repository import newest_created_at
from tokend.storage.schema import webhook_attempts, webhook_deliveries, webhooks

_WEBHOOK_COLUMNS = (
    webhooks.c.id,
    webhooks.c.user_id,
    webhooks.c.team_id,
    webhooks.c.url,
    webhooks.c.events,
    webhooks.c.created_at,
    webhooks.c.failing_since,
    webhooks.c.disabled_at,
)


def _webhook(row: Any) -> Webhook:
    return Webhook(
        id=row.id,
        user_id=row.user_id,
        team_id=row.team_id,
        url=row.url,
        events=tuple(json.loads(row.events)),
        created_at=row.created_at,
        failing_since=row.failing_since,
        disabled_at=row.disabled_at,
    )


def _delivery(row: Any, attempts: Sequence[Attempt] = ()) -> Delivery:
    return Delivery(
        id=row.id,
        webhook_id=row.webhook_id,
        event_type=row.event_type,
        payload=row.payload,
        created_at=row.created_at,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        attempt_log=tuple(attempts),
    )


class SqlWebhookRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, webhook: Webhook, secret: bytes, sealed: bool) -> None:
        self._conn.execute(
            insert(webhooks).values(
                id=webhook.id,
                user_id=webhook.user_id,
                team_id=webhook.team_id,
                url=webhook.url,
                events=json.dumps(list(webhook.events)),
                secret=secret,
                secret_sealed=int(sealed),
                created_at=webhook.created_at,
            )
        )

    def get(self, webhook_id: str) -> Webhook | None:
        row = self._conn.execute(
            select(*_WEBHOOK_COLUMNS).where(webhooks.c.id == webhook_id)
        ).first()
        return _webhook(row) if row else None

    def list_for(self, user_id: str, team_id: str | None) -> list[Webhook]:
        owner = webhooks.c.team_id == team_id if team_id else webhooks.c.user_id == user_id
        query = select(*_WEBHOOK_COLUMNS).where(owner).order_by(webhooks.c.created_at.desc())
        return [_webhook(row) for row in self._conn.execute(query)]

    def receiving(self, user_id: str, team_id: str | None) -> list[Webhook]:
        """The enabled webhooks that receive the events of a token of ``user_id`` (and
        ``team_id``): the team's for a team token, the user's own otherwise. One
        indexed query, as it runs in every token event's transaction."""
        owner = (
            webhooks.c.team_id == team_id
            if team_id
            else and_(webhooks.c.user_id == user_id, webhooks.c.team_id.is_(None))
        )
        query = select(*_WEBHOOK_COLUMNS).where(owner, webhooks.c.disabled_at.is_(None))
        return [_webhook(row) for row in self._conn.execute(query)]

    def remove(self, webhook_id: str) -> bool:
        deliveries = select(webhook_deliveries.c.id).where(
            webhook_deliveries.c.webhook_id == webhook_id
        )
        self._conn.execute(
            delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(deliveries))
        )
        self._conn.execute(
            delete(webhook_deliveries).where(webhook_deliveries.c.webhook_id == webhook_id)
        )
        return self._conn.execute(delete(webhooks).where(webhooks.c.id == webhook_id)).rowcount > 0

    def newest_created_at(self, user_id: str) -> int | None:
        return newest_created_at(self._conn, webhooks, user_id)

    def add_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        self._conn.execute(
            insert(webhook_deliveries),
            [
                {
                    "id": delivery.id,
                    "webhook_id": delivery.webhook_id,
                    "event_type": delivery.event_type,
                    "payload": delivery.payload,
                    "created_at": delivery.created_at,
                    "status": delivery.status.value,
                    "attempts": 0,
                    "next_attempt_at": delivery.next_attempt_at,
                }
                for delivery in deliveries
            ],
        )

    def deliveries_of(self, webhook_id: str, *, limit: int) -> list[Delivery]:
        """The webhook's deliveries, newest first, each with its attempts (newest first)."""
        rows = self._conn.execute(
            select(webhook_deliveries)
            .where(webhook_deliveries.c.webhook_id == webhook_id)
            .order_by(webhook_deliveries.c.created_at.desc(), webhook_deliveries.c.id.desc())
            .limit(limit)
        ).all()
        if not rows:
            return []
        attempts: dict[str, list[Attempt]] = {}
        query = (
            select(webhook_attempts)
            .where(webhook_attempts.c.delivery_id.in_([row.id for row in rows]))
            .order_by(webhook_attempts.c.id.desc())
        )
        for row in self._conn.execute(query):
            attempts.setdefault(row.delivery_id, []).append(
                Attempt(row.attempted_at, row.duration_ms, row.status_code, row.error)
            )
        return [_delivery(row, attempts.get(row.id, ())) for row in rows]

    # The sender's side.

    def claim_due(self, now: int, lease_until: int, limit: int) -> list[ClaimedDelivery]:
        """Lease up to ``limit`` due deliveries of enabled webhooks to this sender until
        ``lease_until``: no other sender takes them before then (or before this one
        records its attempt). PostgreSQL skips the rows another sender is claiming;
        SQLite has one writer at a time, so the UPDATE's condition is enough."""
        due = (
            select(webhook_deliveries.c.id)
            .where(
                webhook_deliveries.c.status == DeliveryStatus.PENDING.value,
                webhook_deliveries.c.next_attempt_at <= now,
                or_(
                    webhook_deliveries.c.claimed_until.is_(None),
                    webhook_deliveries.c.claimed_until < now,
                ),
            )
            .order_by(webhook_deliveries.c.next_attempt_at)
            .limit(limit)
        )
        if self._conn.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(self._conn.execute(due).scalars())
        if not ids:
            return []
        claimed = list(
            self._conn.execute(
                update(webhook_deliveries)
                .where(
                    webhook_deliveries.c.id.in_(ids),
                    webhook_deliveries.c.status == DeliveryStatus.PENDING.value,
                    or_(
                        webhook_deliveries.c.claimed_until.is_(None),
                        webhook_deliveries.c.claimed_until < now,
                    ),
                )
                .values(claimed_until=lease_until)
                .returning(webhook_deliveries.c.id)
            ).scalars()
        )
        if not claimed:
            return []
        query = (
            select(
                webhook_deliveries,
                webhooks.c.url,
                webhooks.c.secret,
                webhooks.c.secret_sealed,
                webhooks.c.disabled_at.label("webhook_disabled_at"),
            )
            .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
            .where(webhook_deliveries.c.id.in_(claimed))
            .order_by(webhook_deliveries.c.next_attempt_at)
        )
        return [
            ClaimedDelivery(
                delivery=_delivery(row),
                url=row.url,
                secret=StoredWebhook(secret=row.secret, sealed=bool(row.secret_sealed)),
                webhook_disabled=row.webhook_disabled_at is not None,
            )
            for row in self._conn.execute(query)
        ]

    def record_attempt(
        self,
        delivery_id: str,
        lease_until: int,
        attempt: Attempt,
        *,
        status: DeliveryStatus,
        next_attempt_at: int,
    ) -> bool:
        """Write an attempt's outcome and release the lease; False (nothing written) if
        the lease was lost meanwhile, another sender having taken over."""
        error = attempt.error[:ERROR_MAX_LENGTH] if attempt.error else None
        written = self._conn.execute(
            update(webhook_deliveries)
            .where(
                webhook_deliveries.c.id == delivery_id,
                webhook_deliveries.c.claimed_until == lease_until,
            )
            .values(
                status=status.value,
                attempts=webhook_deliveries.c.attempts + 1,
                next_attempt_at=next_attempt_at,
                claimed_until=None,
                delivered_at=attempt.attempted_at if status is DeliveryStatus.DELIVERED else None,
                last_status_code=attempt.status_code,
                last_error=error,
            )
        ).rowcount
        if not written:
            return False
        self._conn.execute(
            insert(webhook_attempts).values(
                delivery_id=delivery_id,
                attempted_at=attempt.attempted_at,
                duration_ms=attempt.duration_ms,
                status_code=attempt.status_code,
                error=error,
            )
        )
        return True

    def mark_succeeded(self, webhook_id: str) -> None:
        self._conn.execute(
            update(webhooks)
            .where(webhooks.c.id == webhook_id, webhooks.c.failing_since.is_not(None))
            .values(failing_since=None)
        )

    def mark_failing(self, webhook_id: str, now: int) -> int | None:
        """Note a failure; returns since when the webhook has been failing (None if it
        is gone)."""
        self._conn.execute(
            update(webhooks)
            .where(webhooks.c.id == webhook_id, webhooks.c.failing_since.is_(None))
            .values(failing_since=now)
        )
        return self._conn.execute(
            select(webhooks.c.failing_since).where(webhooks.c.id == webhook_id)
        ).scalar()

    def disable(self, webhook_id: str, now: int) -> bool:
        """Disable it and fail its pending deliveries; False if it was disabled already."""
        done = (
            self._conn.execute(
                update(webhooks)
                .where(webhooks.c.id == webhook_id, webhooks.c.disabled_at.is_(None))
                .values(disabled_at=now)
            ).rowcount
            > 0
        )
        if done:
            self._conn.execute(
                update(webhook_deliveries)
                .where(
                    webhook_deliveries.c.webhook_id == webhook_id,
                    webhook_deliveries.c.status == DeliveryStatus.PENDING.value,
                )
                .values(status=DeliveryStatus.FAILED.value, last_error="webhook disabled")
            )
        return done

    def enable(self, webhook_id: str) -> bool:
        return (
            self._conn.execute(
                update(webhooks)
                .where(webhooks.c.id == webhook_id, webhooks.c.disabled_at.is_not(None))
                .values(disabled_at=None, failing_since=None)
            ).rowcount
            > 0
        )

    def fail_pending_of_disabled(self, delivery_id: str) -> None:
        self._conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(
                status=DeliveryStatus.FAILED.value,
                claimed_until=None,
                last_error="webhook disabled",
            )
        )

    def depth(self, now: int) -> OutboxDepth:
        row = self._conn.execute(
            select(func.count(), func.min(webhook_deliveries.c.created_at)).where(
                webhook_deliveries.c.status == DeliveryStatus.PENDING.value
            )
        ).one()
        oldest = row[1]
        return OutboxDepth(pending=row[0], oldest_age_ms=0 if oldest is None else now - oldest)
