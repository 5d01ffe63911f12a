"""Teams' lifecycle policies (the ``team_policies`` table): one row per team that has
one; no row, no team policy."""

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from tokend.domain.policy import Policy
from tokend.storage.schema import team_policies


class SqlTeamPolicyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, team_id: str) -> Policy | None:
        row = self._conn.execute(
            select(team_policies).where(team_policies.c.team_id == team_id)
        ).first()
        return None if row is None else team_policy(row._mapping)

    def put(self, team_id: str, policy: Policy, now: int) -> None:
        values = {
            "max_lifetime_ms": policy.max_lifetime_ms,
            "inactivity_ms": policy.inactivity_ms,
            "require_expiry": int(policy.require_expiry),
            "updated_at": now,
        }
        # The operator's command is the only writer, run by hand: no race to guard.
        updated = self._conn.execute(
            update(team_policies).where(team_policies.c.team_id == team_id).values(**values)
        )
        if updated.rowcount == 0:
            self._conn.execute(insert(team_policies).values(team_id=team_id, **values))

    def clear(self, team_id: str) -> None:
        self._conn.execute(delete(team_policies).where(team_policies.c.team_id == team_id))


def team_policy(row: Any) -> Policy:
    return Policy(
        max_lifetime_ms=row["max_lifetime_ms"],
        inactivity_ms=row["inactivity_ms"],
        require_expiry=bool(row["require_expiry"]),
    )
