"""`Verifier`: tokend's own verification (cache, revocation feed, activeAt), for any
Python service that shares tokend's database."""

import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from tokend.bootstrap import Services, bootstrap
from tokend.domain.accounts import User
from tokend.domain.errors import MissingToken
from tokend.domain.permissions import has
from tokend.domain.principal import Principal
from tokend.domain.scopes import Scope
from tokend.http.auth import authenticate
from tokend.http.bearer import bearer_secret
from tokend.settings import Settings
from tokend.storage.migrate import ensure_current


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """Who is calling: the token's user, the token, and what it is scoped to."""

    user: User
    token_id: str
    token_name: str
    scope: Scope  # Scope.type is "user" or "team"; Scope.team_id for a team token
    project_id: str | None
    expires_at: int | None  # ms since the epoch
    # None: unrestricted; else the only permissions it holds.
    permissions: frozenset[str] | None = None

    @classmethod
    def of(cls, principal: Principal) -> "VerifiedToken":
        token = principal.token
        return cls(principal.user, token.id, token.name, token.scope, token.project_id,
                   token.expires_at, token.permissions)  # fmt: skip

    def has(self, permission: str) -> bool:
        """Whether the token holds ``permission`` (an unrestricted one holds every one)."""
        return has(self.permissions, permission)


class Verifier:
    """Verifies tokend secrets against tokend's database, as tokend itself does.

    Settings are tokend's (``TOKEND_DATABASE_URL``, ``TOKEND_PEPPER``,
    ``TOKEND_TOKEN_PREFIX``, ``TOKEND_CACHE_SIZE``, ...), read from the environment
    unless given as keywords: ``Verifier(database_url="postgresql://...")``. The
    background threads (revocation feed, activeAt writer) start at the first
    verification, in the process that makes it; `close` stops them and writes the
    last activeAt updates.
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        self.settings = settings or Settings(**overrides)
        self._services: Services | None = None
        self._lock = threading.Lock()

    def verify(self, secret: str | None) -> VerifiedToken:
        """Raises `tokend.domain.errors.AuthenticationError` (MissingToken, InvalidToken
        and its subclasses) when the secret does not authenticate. May block on a miss."""
        return VerifiedToken.of(self._running().authenticator.authenticate(secret))

    async def averify(self, secret: str | None) -> VerifiedToken:
        """`verify` for async code: a cache hit is answered at once, a miss in a thread."""
        return VerifiedToken.of(await authenticate(self._running().authenticator, secret))

    def require(self, authorization: str | None) -> VerifiedToken:
        """`verify` for an ``Authorization`` header value."""
        secret = bearer_secret(authorization)
        if secret is None:
            raise MissingToken("Authentication required: send 'Authorization: Bearer <token>'.")
        return self.verify(secret)

    def _running(self) -> Services:
        services = self._services
        if services is None:
            with self._lock:
                if self._services is None:
                    self._services = self._start()
                services = self._services
        return services

    def _start(self) -> Services:
        services = bootstrap(self.settings)
        try:
            # Never migrates: the schema belongs to the tokend server ('tokend db upgrade').
            ensure_current(services.engine, migrate_empty_sqlite=False)
            services.start(signs_people_in=False, sends_webhooks=False, scans_expiry=False)
        except BaseException:
            services.close()
            raise
        return services

    def close(self) -> None:
        with self._lock:
            if self._services is not None:
                self._services.close()
                self._services = None

    def __enter__(self) -> "Verifier":
        self._running()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
