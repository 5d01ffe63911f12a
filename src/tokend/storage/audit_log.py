"""The audit log over SQLAlchemy Core."""

import json
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, insert, select

from tokend.domain.audit import AuditEvent, EventType, Requester
from tokend.storage.repository import newest_created_at, token_from_row, token_row
from tokend.storage.schema import audit_events, tokens


class SqlAuditLog:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, event: AuditEvent) -> AuditEvent:
        if event.user_id is not None:
            event = self._unique_time(event, event.user_id)
        self._conn.execute(
            insert(audit_events).values(
                id=event.id,
                type=event.type.value,
                created_at=event.created_at,
                user_id=event.user_id,
                team_id=event.token.team_id if event.token else None,
                token_id=event.token_id,
                token=_snapshot(event),
                actor_token_id=event.actor_token_id,
                ip=event.requester.ip,
                user_agent=event.requester.user_agent,
            )
        )
        return event

    def _unique_time(self, event: AuditEvent, user_id: str) -> AuditEvent:
        # createdAt is the paging cursor: an event in the same millisecond as the
        # user's previous one takes the next.
        newest = newest_created_at(self._conn, audit_events, user_id)
        if newest is None or event.created_at > newest:
            return event
        return replace(event, created_at=newest + 1)

    def list_for(
        self, user_id: str, team_id: str | None, *, limit: int, until: int | None
    ) -> list[AuditEvent]:
        actor = tokens.alias("actor")
        query = (
            select(audit_events, actor.c.team_id.label("actor_team_id"))
            .outerjoin(actor, actor.c.id == audit_events.c.actor_token_id)
            .where(audit_events.c.user_id == user_id)
        )
        if team_id is not None:
            query = query.where(audit_events.c.team_id == team_id)
        if until is not None:
            query = query.where(audit_events.c.created_at < until)
        rows = self._conn.execute(query.order_by(audit_events.c.created_at.desc()).limit(limit))
        return [_event(row._mapping) for row in rows]


def _snapshot(event: AuditEvent) -> str | None:
    if event.token is None:
        return None
    values = token_row(event.token)
    del values["digest"]  # the snapshot says what the token was, never how to match it
    if event.token.inactivity_ms is not None:
        # The policy's inactivity limit in force then; read back by token_from_row.
        values["policy_inactivity_ms"] = event.token.inactivity_ms
    return json.dumps(values, separators=(",", ":"))


def _event(row: Any) -> AuditEvent:
    token = None
    if row["token"] is not None:
        # Snapshots written before tokens had permissions have no such key: unrestricted.
        token = token_from_row({"permissions": None, **json.loads(row["token"]), "digest": b""})
    return AuditEvent(
        id=row["id"],
        type=EventType(row["type"]),
        created_at=row["created_at"],
        user_id=row["user_id"],
        token_id=row["token_id"],
        token=token,
        actor_token_id=row["actor_token_id"],
        requester=Requester(ip=row["ip"], user_agent=row["user_agent"]),
        actor_team_id=row.get("actor_team_id"),
    )
