"""Repositories of "Sign in with tokend": integrations, grants with their codes and
refresh tokens, and the id_token signing keys."""

import json
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from tokend.domain.integrations import Integration
from tokend.domain.oauth import AuthorizationCode, Grant, RefreshToken
from tokend.domain.signing_keys import StoredSigningKey
from tokend.storage.schema import (
    integrations,
    oauth_codes,
    oauth_grant_tokens,
    oauth_grants,
    oauth_refresh_tokens,
    signing_keys,
    tokens,
)


class SqlIntegrationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, integration: Integration) -> None:
        values = {**asdict(integration), "redirect_uris": json.dumps(integration.redirect_uris)}
        self._conn.execute(insert(integrations).values(**values))

    def get(self, integration_id: str) -> Integration | None:
        return self._one(integrations.c.id == integration_id)

    def by_client_id(self, client_id: str) -> Integration | None:
        return self._one(integrations.c.client_id == client_id)

    def list(self) -> list[Integration]:
        query = select(integrations).order_by(integrations.c.created_at, integrations.c.id)
        return [_integration(row._mapping) for row in self._conn.execute(query)]

    def remove(self, integration_id: str) -> bool:
        grants = select(oauth_grants.c.id).where(oauth_grants.c.integration_id == integration_id)
        self._conn.execute(
            delete(oauth_grant_tokens).where(oauth_grant_tokens.c.grant_id.in_(grants))
        )
        self._conn.execute(
            delete(oauth_refresh_tokens).where(oauth_refresh_tokens.c.grant_id.in_(grants))
        )
        self._conn.execute(
            delete(oauth_codes).where(oauth_codes.c.integration_id == integration_id)
        )
        self._conn.execute(
            delete(oauth_grants).where(oauth_grants.c.integration_id == integration_id)
        )
        result = self._conn.execute(delete(integrations).where(integrations.c.id == integration_id))
        return result.rowcount > 0

    def _one(self, condition: Any) -> Integration | None:
        row = self._conn.execute(select(integrations).where(condition)).first()
        return _integration(row._mapping) if row else None


def _integration(row: Any) -> Integration:
    return Integration(**{**row, "redirect_uris": tuple(json.loads(row["redirect_uris"]))})


class SqlOAuthRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add_code(self, code: AuthorizationCode) -> None:
        values = {**asdict(code), "redirect_uri_sent": int(code.redirect_uri_sent)}
        self._conn.execute(insert(oauth_codes).values(**values))

    def code_by_digest(self, digest: bytes) -> AuthorizationCode | None:
        row = self._conn.execute(select(oauth_codes).where(oauth_codes.c.digest == digest)).first()
        if row is None:
            return None
        values = dict(row._mapping)
        return AuthorizationCode(
            **{**values, "redirect_uri_sent": bool(values["redirect_uri_sent"])}
        )

    def use_code(self, code_id: str, now: int, grant_id: str) -> bool:
        result = self._conn.execute(
            update(oauth_codes)
            .where(oauth_codes.c.id == code_id, oauth_codes.c.used_at.is_(None))
            .values(used_at=now, grant_id=grant_id)
        )
        return result.rowcount > 0

    def prune_codes(self, expired_before: int) -> None:
        self._conn.execute(delete(oauth_codes).where(oauth_codes.c.expires_at < expired_before))

    def add_grant(self, grant: Grant) -> None:
        self._conn.execute(insert(oauth_grants).values(**asdict(grant)))

    def get_grant(self, grant_id: str) -> Grant | None:
        row = self._conn.execute(select(oauth_grants).where(oauth_grants.c.id == grant_id)).first()
        return Grant(**row._mapping) if row else None

    def grant_ids_of(self, integration_id: str) -> list[str]:
        query = select(oauth_grants.c.id).where(oauth_grants.c.integration_id == integration_id)
        return list(self._conn.execute(query).scalars())

    def revoke_grant(self, grant_id: str, now: int) -> bool:
        result = self._conn.execute(
            update(oauth_grants)
            .where(oauth_grants.c.id == grant_id, oauth_grants.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        self._conn.execute(
            update(oauth_refresh_tokens)
            .where(
                oauth_refresh_tokens.c.grant_id == grant_id,
                oauth_refresh_tokens.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return result.rowcount > 0

    def add_refresh_token(self, token: RefreshToken) -> None:
        self._conn.execute(insert(oauth_refresh_tokens).values(**asdict(token)))

    def refresh_token_by_digest(self, digest: bytes) -> RefreshToken | None:
        table = oauth_refresh_tokens
        row = self._conn.execute(select(table).where(table.c.digest == digest)).first()
        return RefreshToken(**row._mapping) if row else None

    def use_refresh_token(self, token_id: str, now: int) -> bool:
        table = oauth_refresh_tokens
        result = self._conn.execute(
            update(table)
            .where(table.c.id == token_id, table.c.used_at.is_(None))
            .values(used_at=now)
        )
        return result.rowcount > 0

    def add_grant_token(self, grant_id: str, token_id: str) -> None:
        self._conn.execute(insert(oauth_grant_tokens).values(grant_id=grant_id, token_id=token_id))

    def grant_token_ids(self, grant_id: str) -> list[str]:
        query = select(oauth_grant_tokens.c.token_id).where(
            oauth_grant_tokens.c.grant_id == grant_id
        )
        return list(self._conn.execute(query).scalars())

    def grant_token_revoked(self, grant_id: str) -> bool:
        query = select(
            exists().where(
                oauth_grant_tokens.c.grant_id == grant_id,
                tokens.c.id == oauth_grant_tokens.c.token_id,
                tokens.c.revoked_at.is_not(None),
            )
        )
        return bool(self._conn.execute(query).scalar())


class SqlSigningKeyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def newest(self) -> StoredSigningKey | None:
        query = select(signing_keys).order_by(signing_keys.c.generation.desc()).limit(1)
        row = self._conn.execute(query).first()
        return StoredSigningKey(**row._mapping) if row else None

    def get(self, kid: str) -> StoredSigningKey | None:
        row = self._conn.execute(select(signing_keys).where(signing_keys.c.kid == kid)).first()
        return StoredSigningKey(**row._mapping) if row else None

    def add(self, key: StoredSigningKey) -> bool:
        # A savepoint: losing the race to another node leaves the transaction usable.
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(signing_keys).values(**asdict(key)))
        except IntegrityError:
            return False
        return True

    def all(self) -> list[StoredSigningKey]:
        query = select(signing_keys).order_by(signing_keys.c.generation.desc())
        return [StoredSigningKey(**row._mapping) for row in self._conn.execute(query)]

    def retire(self, generation: int, now: int) -> None:
        self._conn.execute(
            update(signing_keys)
            .where(signing_keys.c.generation == generation, signing_keys.c.retired_at.is_(None))
            .values(retired_at=now)
        )

    def prune(self, retired_before: int) -> None:
        self._conn.execute(delete(signing_keys).where(signing_keys.c.retired_at < retired_before))
