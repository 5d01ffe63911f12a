"""Repositories over SQLAlchemy Core: rows in, domain objects out."""

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Select,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError

from tokend.domain.accounts import AccountKind, Team, User
from tokend.domain.scopes import Scope, ScopeType
from tokend.domain.tokens import Origin, Token
from tokend.storage.schema import (
    memberships,
    team_policies,
    teams,
    token_revocations,
    tokens,
    users,
)

T = TypeVar("T")

REVOCATION_CHANNEL = "tokend_revocations"
# Long enough for any poller that is alive to have read a revocation; a poller that
# slept longer sees the gap in the sequence and drops its whole cache.
REVOCATION_LOG_KEEP_MS = 3_600_000


# What makes a `User`: the password hash is read only where a password is checked.
_USER_COLUMNS = tuple(column for column in users.c if column.name != "password_hash")
_USERS = select(*_USER_COLUMNS)

# Built once: every cache miss runs it, and building a SELECT costs more Python time
# than the indexed look-up costs the database.
# The team's inactivity limit comes along (a primary-key look-up, joined): a token is
# verified against it without a query of its own.
_TEAM_INACTIVITY = team_policies.c.inactivity_ms.label("policy_inactivity_ms")
_TOKEN_WITH_OWNER = (
    select(
        tokens,
        *[column.label(f"owner_{column.name}") for column in _USER_COLUMNS],
        _TEAM_INACTIVITY,
    )
    .join(users, users.c.id == tokens.c.user_id)
    .outerjoin(team_policies, team_policies.c.team_id == tokens.c.team_id)
    .where(tokens.c.digest == bindparam("digest"))
)
_TOKENS_WITH_POLICY = select(tokens, _TEAM_INACTIVITY).outerjoin(
    team_policies, team_policies.c.team_id == tokens.c.team_id
)


_TOKEN_WITH_OWNER_NAMES = tuple(column.name for column in _TOKEN_WITH_OWNER.selected_columns)


@functools.cache
def _driver_sql(dialect: Dialect) -> tuple[str, bool]:
    compiled = _TOKEN_WITH_OWNER.compile(dialect=dialect)
    return str(compiled), bool(compiled.positional)


class SqlTokenRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, token: Token) -> None:
        self._conn.execute(insert(tokens).values(**token_row(token)))

    def get(self, token_id: str) -> Token | None:
        query = _TOKENS_WITH_POLICY.where(tokens.c.id == token_id)
        return _first(self._conn, query, token_from_row)

    def get_with_owner(self, digest: bytes) -> tuple[Token, User] | None:
        try:
            row = self._fetch_with_owner(digest)
        except self._conn.dialect.loaded_dbapi.Error:
            # Again through SQLAlchemy, so that a failure is seen as it would have been:
            # wrapped (a 503 for a lost database), and a dropped connection's pool discarded.
            row = self._conn.execute(_TOKEN_WITH_OWNER, {"digest": digest}).first()
        if row is None:
            return None
        values = dict(zip(_TOKEN_WITH_OWNER_NAMES, row, strict=True))
        user = _user({column.name: values[f"owner_{column.name}"] for column in _USER_COLUMNS})
        return token_from_row(values), user

    def _fetch_with_owner(self, digest: bytes) -> Sequence[Any] | None:
        # Every cache miss runs this, so it goes straight to the driver's cursor with
        # SQL compiled once per dialect: SQLAlchemy's execution and result machinery
        # would cost as much again as the database takes to answer.
        sql, positional = _driver_sql(self._conn.dialect)
        cursor = self._conn.connection.cursor()
        try:
            cursor.execute(sql, (digest,) if positional else {"digest": digest})
            row: Sequence[Any] | None = cursor.fetchone()
        finally:
            cursor.close()
        return row

    def newest_created_at(self, user_id: str) -> int | None:
        return newest_created_at(self._conn, tokens, user_id)

    def list_live(
        self,
        user_id: str,
        team_id: str | None,
        *,
        limit: int,
        until: int | None,
        since: int | None,
    ) -> list[Token]:
        query = _TOKENS_WITH_POLICY.where(*_live(user_id, team_id))
        if until is not None:
            query = query.where(tokens.c.created_at < until)
        if since is not None:
            query = query.where(tokens.c.created_at > since)
        if since is not None and until is None:
            # The page just newer than `since`: walk up from it, then show newest first.
            query = query.order_by(tokens.c.created_at.asc()).limit(limit)
            rows = list(self._conn.execute(query))[::-1]
        else:
            query = query.order_by(tokens.c.created_at.desc()).limit(limit)
            rows = list(self._conn.execute(query))
        return [token_from_row(row._mapping) for row in rows]

    def has_live(
        self,
        user_id: str,
        team_id: str | None,
        *,
        before: int | None = None,
        after: int | None = None,
    ) -> bool:
        conditions = _live(user_id, team_id)
        if before is not None:
            conditions.append(tokens.c.created_at < before)
        if after is not None:
            conditions.append(tokens.c.created_at > after)
        return bool(self._conn.execute(select(exists().where(*conditions))).scalar())

    def revoke(
        self, token_id: str, now: int, *, leaked: bool = False, leaked_url: str | None = None
    ) -> bool:
        values: dict[str, Any] = {"revoked_at": now}
        if leaked:
            values |= {"leaked_at": now, "leaked_url": leaked_url}
        result = self._conn.execute(
            update(tokens)
            .where(
                tokens.c.id == token_id,
                tokens.c.revoked_at.is_(None),
                tokens.c.leaked_at.is_(None),
            )
            .values(**values)
        )
        if result.rowcount != 1:
            return False
        self._announce_revocation(token_id, now)
        return True

    def _announce_revocation(self, token_id: str, now: int) -> None:
        # In the revoking transaction: the log row and the notification exist exactly
        # when the revocation does (PostgreSQL delivers NOTIFY at commit).
        self._conn.execute(insert(token_revocations).values(token_id=token_id, revoked_at=now))
        self._conn.execute(
            delete(token_revocations).where(
                token_revocations.c.revoked_at < now - REVOCATION_LOG_KEEP_MS
            )
        )
        if self._conn.dialect.name == "postgresql":
            self._conn.execute(
                text("SELECT pg_notify(:channel, :token_id)"),
                {"channel": REVOCATION_CHANNEL, "token_id": token_id},
            )

    def shorten(self, token_id: str, expires_at: int, now: int) -> bool:
        result = self._conn.execute(
            update(tokens)
            .where(
                tokens.c.id == token_id,
                tokens.c.revoked_at.is_(None),
                tokens.c.leaked_at.is_(None),
                tokens.c.expires_at.is_(None) | (tokens.c.expires_at > expires_at),
            )
            .values(expires_at=expires_at)
        )
        if result.rowcount != 1:
            return False
        # The feed makes every process drop the token from its cache, as for a
        # revocation; it then reads it again, with its new expiry.
        self._announce_revocation(token_id, now)
        return True

    def touch_many(self, used_at: Mapping[str, int], resolution_ms: int) -> int:
        if not used_at:
            return 0
        # Conditional, so every process that saw a stale activeAt may ask, and still
        # at most one write lands per token per window.
        statement = (
            update(tokens)
            .where(
                tokens.c.id == bindparam("b_id"),
                tokens.c.active_at <= bindparam("b_used_at") - resolution_ms,
            )
            .values(active_at=bindparam("b_used_at"))
        )
        params = [{"b_id": token_id, "b_used_at": at} for token_id, at in used_at.items()]
        result = self._conn.execute(statement, params)
        return max(result.rowcount, 0)


class SqlAccountRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add_user(self, user: User) -> None:
        self._conn.execute(
            insert(users).values(
                id=user.id,
                username=user.username,
                email=user.email,
                name=user.name,
                created_at=user.created_at,
                kind=user.kind.value,
            )
        )

    def get_user(self, user_id: str) -> User | None:
        return _first(self._conn, _USERS.where(users.c.id == user_id), _user)

    def get_user_by_username(self, username: str) -> User | None:
        return _first(self._conn, _USERS.where(users.c.username == username), _user)

    def find_by_login(self, login: str) -> User | None:
        login = login.strip().lower()
        user = self.get_user_by_username(login)
        if user is not None:
            return user
        # Emails are not unique: a name shared by several accounts signs in none.
        rows = self._conn.execute(_USERS.where(func.lower(users.c.email) == login).limit(2)).all()
        return _user(rows[0]._mapping) if len(rows) == 1 else None

    def password_hash(self, user_id: str) -> str | None:
        query = select(users.c.password_hash).where(users.c.id == user_id)
        value = self._conn.execute(query).scalar()
        return str(value) if value is not None else None

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self._conn.execute(
            update(users).where(users.c.id == user_id).values(password_hash=password_hash)
        )

    def teams_of(self, user_id: str) -> list[Team]:
        query = (
            select(teams)
            .join(memberships, memberships.c.team_id == teams.c.id)
            .where(memberships.c.user_id == user_id)
            .order_by(teams.c.slug)
        )
        return [_team(row._mapping) for row in self._conn.execute(query)]

    def add_team(self, team: Team) -> None:
        self._conn.execute(
            insert(teams).values(
                id=team.id, slug=team.slug, name=team.name, created_at=team.created_at
            )
        )

    def get_team(self, team_id: str) -> Team | None:
        return _first(self._conn, select(teams).where(teams.c.id == team_id), _team)

    def get_team_by_slug(self, slug: str) -> Team | None:
        return _first(self._conn, select(teams).where(teams.c.slug == slug), _team)

    def add_member(self, team_id: str, user_id: str, role: str, now: int) -> bool:
        if self.is_member(team_id, user_id):
            return False
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    insert(memberships).values(
                        team_id=team_id, user_id=user_id, role=role, created_at=now
                    )
                )
        except IntegrityError:  # added concurrently by someone else: same outcome
            return False
        return True

    def team_of_member(
        self, user_id: str, *, team_id: str | None = None, slug: str | None = None
    ) -> Team | None:
        named = teams.c.id == team_id if team_id is not None else teams.c.slug == slug
        query = (
            select(teams)
            .join(
                memberships,
                (memberships.c.team_id == teams.c.id) & (memberships.c.user_id == user_id),
            )
            .where(named)
        )
        return _first(self._conn, query, _team)

    def is_member(self, team_id: str, user_id: str) -> bool:
        query = select(
            exists().where(memberships.c.team_id == team_id, memberships.c.user_id == user_id)
        )
        return bool(self._conn.execute(query).scalar())


def newest_created_at(conn: Connection, table: Table, user_id: str) -> int | None:
    """The newest ``created_at`` of the user's rows in ``table`` (a paging cursor kept
    unique per user). Locking the user's row serialises the writers of that user on
    PostgreSQL; SQLite write transactions are serial already (BEGIN IMMEDIATE)."""
    conn.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())
    value = conn.execute(
        select(func.max(table.c.created_at)).where(table.c.user_id == user_id)
    ).scalar()
    return int(value) if value is not None else None


def _first(conn: Connection, query: Select[Any], make: Callable[[Any], T]) -> T | None:
    row = conn.execute(query).first()
    return make(row._mapping) if row else None


def _user(row: Any) -> User:
    return User(**{**row, "kind": AccountKind(row["kind"])})


def _team(row: Any) -> Team:
    return Team(**row)


def _live(user_id: str, team_id: str | None) -> list[Any]:
    conditions: list[Any] = [
        tokens.c.user_id == user_id,
        tokens.c.revoked_at.is_(None),
        tokens.c.leaked_at.is_(None),
    ]
    if team_id is not None:
        conditions.append(tokens.c.team_id == team_id)
    return conditions


def token_row(token: Token) -> dict[str, Any]:
    return {
        "id": token.id,
        "user_id": token.user_id,
        "name": token.name,
        "digest": token.digest,
        "prefix": token.prefix,
        "suffix": token.suffix,
        "origin": token.origin.value,
        "scope_type": token.scope.type.value,
        "team_id": token.scope.team_id,
        "project_id": token.project_id,
        "created_at": token.created_at,
        "active_at": token.active_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "leaked_at": token.leaked_at,
        "leaked_url": token.leaked_url,
        "permissions": _permissions_text(token.permissions),
    }


def token_from_row(row: Any) -> Token:
    return Token(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        digest=bytes(row["digest"]),
        prefix=row["prefix"],
        suffix=row["suffix"],
        origin=Origin(row["origin"]),
        scope=Scope(ScopeType(row["scope_type"]), row["team_id"]),
        created_at=row["created_at"],
        active_at=row["active_at"],
        expires_at=row["expires_at"],
        project_id=row["project_id"],
        revoked_at=row["revoked_at"],
        leaked_at=row["leaked_at"],
        leaked_url=row["leaked_url"],
        inactivity_ms=row.get("policy_inactivity_ms"),
        permissions=_permissions_of(row["permissions"]),
    )


def _permissions_text(permissions: frozenset[str] | None) -> str | None:
    return None if permissions is None else json.dumps(sorted(permissions))


def _permissions_of(text: str | None) -> frozenset[str] | None:
    return None if text is None else frozenset(json.loads(text))
