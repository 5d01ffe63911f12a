"""RFC 7662 introspection: a resource server asks whether a token is live."""

from dataclasses import dataclass

from tokend.domain.errors import AuthenticationError
from tokend.domain.principal import Principal
from tokend.service.authentication import Authenticator


@dataclass(frozen=True, slots=True)
class IntrospectionService:
    authenticator: Authenticator

    def introspect(self, caller: Principal, secret: str) -> Principal | None:
        """Whose the token is, if it is live now; None for anything else, whatever the
        reason (the resource server learns nothing more about a dead token). A live
        token introspected counts as used: its activeAt moves as on any request."""
        caller.ensure_can_introspect()
        try:
            return self.authenticator.authenticate(secret)
        except AuthenticationError:
            return None
