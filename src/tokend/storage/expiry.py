"""The expiry notices given: one row per (token, threshold), whose primary key makes
each notice once-only across restarts and nodes."""

from sqlalchemy import Connection, and_, exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from tokend.storage.schema import expiry_notices, tokens


class SqlExpiryNotices:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def due(
        self, now: int, thresholds_ms: tuple[int, ...], *, expired_since: int, limit: int
    ) -> list[str]:
        given = expiry_notices
        # One condition per threshold: crossed, and its notice not given yet.
        pending = [
            and_(
                tokens.c.expires_at <= now + threshold,
                ~exists().where(given.c.token_id == tokens.c.id, given.c.threshold_ms == threshold),
            )
            for threshold in thresholds_ms
        ]
        query = (
            select(tokens.c.id)
            .where(
                tokens.c.revoked_at.is_(None),
                tokens.c.leaked_at.is_(None),
                tokens.c.expires_at.is_not(None),
                # A bounded range of the expires_at index: only tokens near their end.
                tokens.c.expires_at > expired_since,
                tokens.c.expires_at <= now + max(thresholds_ms, default=0),
                or_(*pending),
            )
            .order_by(tokens.c.expires_at, tokens.c.id)
            .limit(limit)
        )
        return list(self._conn.scalars(query))

    def add(self, token_id: str, threshold_ms: int, now: int) -> bool:
        # ON CONFLICT DO NOTHING: a node that lost the race to give this notice learns
        # it lost (no row returned) instead of failing its transaction.
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(expiry_notices)
            .values(token_id=token_id, threshold_ms=threshold_ms, sent_at=now)
            .on_conflict_do_nothing()
            .returning(expiry_notices.c.token_id)
        )
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT.
        return self._conn.execute(statement).first() is not None
