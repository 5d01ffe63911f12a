"""Repositories of what people need to sign in: sessions, invites, device
authorizations and the sign-in failure counts."""

from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, case, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tokend.domain.audit import Requester
from tokend.domain.device import DeviceAuthorization, DeviceStatus
from tokend.domain.invites import Invite
from tokend.domain.sessions import Session
from tokend.service.ports import FailureCount
from tokend.storage.schema import device_authorizations, invites, sessions, sign_in_failures


class SqlSessionRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, session: Session) -> None:
        self._conn.execute(
            insert(sessions).values(
                id=session.id,
                digest=session.digest,
                user_id=session.user_id,
                created_at=session.created_at,
                seen_at=session.seen_at,
                ip=session.requester.ip,
                user_agent=session.requester.user_agent,
            )
        )

    def get_by_digest(self, digest: bytes) -> Session | None:
        row = self._conn.execute(select(sessions).where(sessions.c.digest == digest)).first()
        return _session(row._mapping) if row else None

    def list_for(self, user_id: str) -> list[Session]:
        query = (
            select(sessions)
            .where(sessions.c.user_id == user_id)
            .order_by(sessions.c.created_at.desc(), sessions.c.id)
        )
        return [_session(row._mapping) for row in self._conn.execute(query)]

    def touch(self, session_id: str, now: int) -> None:
        self._conn.execute(
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.seen_at < now)
            .values(seen_at=now)
        )

    def delete(self, session_id: str, user_id: str) -> bool:
        result = self._conn.execute(
            delete(sessions).where(sessions.c.id == session_id, sessions.c.user_id == user_id)
        )
        return result.rowcount > 0

    def delete_all(self, user_id: str, *, except_id: str | None = None) -> int:
        query = delete(sessions).where(sessions.c.user_id == user_id)
        if except_id is not None:
            query = query.where(sessions.c.id != except_id)
        return self._conn.execute(query).rowcount

    def delete_ended(self, user_id: str, idle_before: int, created_before: int) -> int:
        query = delete(sessions).where(
            sessions.c.user_id == user_id,
            (sessions.c.seen_at < idle_before) | (sessions.c.created_at < created_before),
        )
        return self._conn.execute(query).rowcount


def _session(row: Any) -> Session:
    return Session(
        id=row["id"],
        digest=row["digest"],
        user_id=row["user_id"],
        created_at=row["created_at"],
        seen_at=row["seen_at"],
        requester=Requester(ip=row["ip"], user_agent=row["user_agent"]),
    )


class SqlInviteRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, invite: Invite) -> None:
        self._conn.execute(insert(invites).values(**asdict(invite)))

    def get_by_digest(self, digest: bytes) -> Invite | None:
        row = self._conn.execute(select(invites).where(invites.c.digest == digest)).first()
        return Invite(**row._mapping) if row else None

    def use(self, invite_id: str, now: int) -> bool:
        result = self._conn.execute(
            update(invites)
            .where(invites.c.id == invite_id, invites.c.used_at.is_(None))
            .values(used_at=now)
        )
        return result.rowcount > 0


class SqlDeviceRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, device: DeviceAuthorization) -> None:
        values = {**asdict(device), "status": device.status.value}
        self._conn.execute(insert(device_authorizations).values(**values))

    def by_device_code(self, digest: bytes) -> DeviceAuthorization | None:
        return self._one(device_authorizations.c.device_code_digest == digest)

    def by_user_code(self, digest: bytes) -> DeviceAuthorization | None:
        return self._one(device_authorizations.c.user_code_digest == digest)

    def _one(self, condition: Any) -> DeviceAuthorization | None:
        row = self._conn.execute(select(device_authorizations).where(condition)).first()
        if row is None:
            return None
        values = dict(row._mapping)
        return DeviceAuthorization(**{**values, "status": DeviceStatus(values["status"])})

    def polled(self, device_id: str, now: int, interval_s: int) -> None:
        self._conn.execute(
            update(device_authorizations)
            .where(device_authorizations.c.id == device_id)
            .values(polled_at=now, interval_s=interval_s)
        )

    def decide(
        self, device_id: str, status: DeviceStatus, user_id: str | None, *, was: DeviceStatus
    ) -> bool:
        values: dict[str, Any] = {"status": status.value}
        if user_id is not None:
            values["user_id"] = user_id
        result = self._conn.execute(
            update(device_authorizations)
            .where(
                device_authorizations.c.id == device_id,
                device_authorizations.c.status == was.value,
            )
            .values(**values)
        )
        return result.rowcount > 0

    def pending_from(self, ip: str | None, now: int) -> list[int]:
        table = device_authorizations
        query = select(table.c.expires_at).where(
            table.c.ip.is_(None) if ip is None else table.c.ip == ip,
            table.c.status == DeviceStatus.PENDING.value,
            table.c.expires_at > now,
        )
        return [int(value) for value in self._conn.execute(query).scalars()]

    def prune(self, expired_before: int) -> None:
        self._conn.execute(
            delete(device_authorizations).where(device_authorizations.c.expires_at < expired_before)
        )


class SqlSignInFailures:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def refund(self, key: str, now: int) -> None:
        table = sign_in_failures
        self._conn.execute(
            update(table)
            .where(table.c.key == key, table.c.window_ends > now, table.c.failures > 0)
            .values(failures=table.c.failures - 1)
        )
        self._conn.execute(delete(table).where(table.c.key == key, table.c.failures <= 0))

    def add(self, key: str, now: int, window_ms: int) -> FailureCount:
        # One atomic upsert: concurrent failures on several nodes are all counted. A
        # window that has ended starts again at this failure.
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        table = sign_in_failures
        statement = dialect.insert(table).values(key=key, window_ends=now + window_ms, failures=1)
        ended = table.c.window_ends <= now
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "failures": _case(ended, 1, table.c.failures + 1),
                "window_ends": _case(ended, now + window_ms, table.c.window_ends),
            },
        ).returning(table.c.failures, table.c.window_ends)
        row = self._conn.execute(statement).one()
        return FailureCount(int(row[0]), int(row[1]))


def _case(condition: Any, then: Any, otherwise: Any) -> Any:
    return case((condition, then), else_=otherwise)
