"""Bearer secret to principal: format check, digest, look-up, lifecycle, activity."""

from dataclasses import dataclass, replace

from tokend.domain.digest import Digester
from tokend.domain.errors import MissingToken, UnknownToken
from tokend.domain.principal import Principal
from tokend.domain.secret import SecretFormat
from tokend.service.clock import Clock, system_clock
from tokend.service.ports import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Authenticator:
    uow: UnitOfWorkFactory
    secret_format: SecretFormat
    digester: Digester
    active_at_resolution_ms: int = 60_000
    clock: Clock = system_clock

    def authenticate(self, secret: str | None) -> Principal:
        if not secret:
            raise MissingToken("Authentication required: send 'Authorization: Bearer <token>'.")
        # Malformed secrets stop here, before any database access.
        digest = self.digester.digest(self.secret_format.check(secret))
        now = self.clock()
        with self.uow() as uow:
            # An indexed equality look-up on a digest: the secret itself is never
            # compared, so there is no timing signal to leak about it.
            token = uow.tokens.get_by_digest(digest)
            if token is None:
                raise UnknownToken("The token is not valid.")
            token.ensure_live(now)
            user = uow.accounts.get_user(token.user_id)
            if user is None:  # users are never deleted while their tokens exist
                raise UnknownToken("The token is not valid.")
        if token.needs_activity_update(now, self.active_at_resolution_ms):
            self._record_activity(token.id, now)
            token = replace(token, active_at=now)
        return Principal(user=user, token=token)

    def _record_activity(self, token_id: str, now: int) -> None:
        # Conditional, so concurrent workers that all saw a stale activeAt still
        # write at most once per token per resolution window.
        with self.uow(write=True) as uow:
            uow.tokens.touch(token_id, now, stale_before=now - self.active_at_resolution_ms + 1)
            uow.commit()
