"""The permission catalogue's repository."""

from dataclasses import asdict

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from tokend.domain.permissions import CataloguedPermission
from tokend.storage.schema import permissions


class SqlPermissionCatalogue:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, permission: CataloguedPermission) -> bool:
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(permissions).values(**asdict(permission)))
        except IntegrityError:
            return False
        return True

    def list(self) -> list[CataloguedPermission]:
        query = select(permissions).order_by(permissions.c.name)
        return [CataloguedPermission(**row._mapping) for row in self._conn.execute(query)]

    def known(self, names: frozenset[str]) -> frozenset[str]:
        if not names:
            return frozenset()
        query = select(permissions.c.name).where(permissions.c.name.in_(sorted(names)))
        return frozenset(self._conn.execute(query).scalars())

    def remove(self, name: str) -> bool:
        return (
            self._conn.execute(delete(permissions).where(permissions.c.name == name)).rowcount > 0
        )
