"""Repositories of sign-in through an upstream identity provider: the linked
identities, and the sign-ins under way."""

from dataclasses import asdict

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from tokend.domain.upstream import PendingSignIn, UserIdentity
from tokend.storage.schema import upstream_sign_ins, user_identities


class SqlUserIdentityRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, issuer: str, subject: str) -> UserIdentity | None:
        table = user_identities
        row = self._conn.execute(
            select(table).where(table.c.issuer == issuer, table.c.subject == subject)
        ).first()
        return UserIdentity(**row._mapping) if row else None

    def add(self, identity: UserIdentity) -> bool:
        # ON CONFLICT DO NOTHING: a second first sign-in of the same person, racing on
        # another node, learns it lost instead of failing the transaction.
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(user_identities)
            .values(**asdict(identity))
            .on_conflict_do_nothing()
            .returning(user_identities.c.user_id)
        )
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT.
        return self._conn.execute(statement).first() is not None


class SqlUpstreamSignInRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, pending: PendingSignIn) -> None:
        self._conn.execute(insert(upstream_sign_ins).values(**asdict(pending)))

    def take(self, state_digest: bytes) -> PendingSignIn | None:
        table = upstream_sign_ins
        row = self._conn.execute(select(table).where(table.c.state_digest == state_digest)).first()
        if row is None:
            return None
        # The DELETE decides: of two callbacks that both read the row, one deletes it.
        deleted = self._conn.execute(delete(table).where(table.c.state_digest == state_digest))
        return PendingSignIn(**row._mapping) if deleted.rowcount > 0 else None

    def prune(self, expired_before: int) -> None:
        table = upstream_sign_ins
        self._conn.execute(delete(table).where(table.c.expires_at < expired_before))

    def pending_from(self, ip: str | None, now: int) -> list[int]:
        table = upstream_sign_ins
        query = select(table.c.expires_at).where(
            table.c.ip.is_(None) if ip is None else table.c.ip == ip,
            table.c.expires_at > now,
        )
        return [int(value) for value in self._conn.execute(query).scalars()]
