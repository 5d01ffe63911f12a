"""A unit of work: one connection, one transaction, committed only on request."""

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from tokend.service.ports import (
    AccountRepository,
    AuditLog,
    DeviceRepository,
    ExpiryNotices,
    IntegrationRepository,
    InviteRepository,
    OAuthRepository,
    PermissionCatalogue,
    SessionRepository,
    SignInFailures,
    SigningKeyRepository,
    TeamPolicyRepository,
    TokenRepository,
    UpstreamSignInRepository,
    UserIdentityRepository,
    WebhookRepository,
)
from tokend.storage.audit_log import SqlAuditLog
from tokend.storage.engine import WRITE_OPTION
from tokend.storage.expiry import SqlExpiryNotices
from tokend.storage.oauth import (
    SqlIntegrationRepository,
    SqlOAuthRepository,
    SqlSigningKeyRepository,
)
from tokend.storage.people import (
    SqlDeviceRepository,
    SqlInviteRepository,
    SqlSessionRepository,
    SqlSignInFailures,
)
from tokend.storage.permissions import SqlPermissionCatalogue
from tokend.storage.policies import SqlTeamPolicyRepository
from tokend.storage.repository import SqlAccountRepository, SqlTokenRepository
from tokend.storage.upstream import SqlUpstreamSignInRepository, SqlUserIdentityRepository
from tokend.storage.webhooks import SqlWebhookRepository


class SqlUnitOfWork:
    tokens: TokenRepository
    accounts: AccountRepository
    audit: AuditLog
    sessions: SessionRepository
    invites: InviteRepository
    devices: DeviceRepository
    sign_in_failures: SignInFailures
    user_identities: UserIdentityRepository
    upstream_sign_ins: UpstreamSignInRepository
    integrations: IntegrationRepository
    oauth: OAuthRepository
    signing_keys: SigningKeyRepository
    team_policies: TeamPolicyRepository
    permissions: PermissionCatalogue
    webhooks: WebhookRepository
    expiry_notices: ExpiryNotices

    def __init__(self, engine: Engine, *, write: bool = False, one_read: bool = False) -> None:
        self._engine = engine
        self._write = write
        self._one_read = one_read
        self._conn: Connection | None = None

    def __enter__(self) -> Self:
        conn = self._engine.connect()
        if self._write:
            conn.execution_options(**{WRITE_OPTION: True})
        if self._one_read and conn.dialect.name == "postgresql":
            # One SELECT needs no transaction: autocommit saves the BEGIN and ROLLBACK
            # round trips on the verification path. (SQLite's BEGIN costs no round trip.)
            conn.execution_options(isolation_level="AUTOCOMMIT")
        else:
            conn.begin()
        self._conn = conn
        self.tokens = SqlTokenRepository(conn)
        self.accounts = SqlAccountRepository(conn)
        self.audit = SqlAuditLog(conn)
        self.sessions = SqlSessionRepository(conn)
        self.invites = SqlInviteRepository(conn)
        self.devices = SqlDeviceRepository(conn)
        self.sign_in_failures = SqlSignInFailures(conn)
        self.user_identities = SqlUserIdentityRepository(conn)
        self.upstream_sign_ins = SqlUpstreamSignInRepository(conn)
        self.integrations = SqlIntegrationRepository(conn)
        self.oauth = SqlOAuthRepository(conn)
        self.signing_keys = SqlSigningKeyRepository(conn)
        self.team_policies = SqlTeamPolicyRepository(conn)
        self.permissions = SqlPermissionCatalogue(conn)
        self.webhooks = SqlWebhookRepository(conn)
        self.expiry_notices = SqlExpiryNotices(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        assert self._conn is not None
        self._conn.commit()


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, *, write: bool = False, one_read: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, write=write, one_read=one_read)
