"""Who is calling, and what that token may do to other tokens."""

from dataclasses import dataclass

from tokend.domain.accounts import User
from tokend.domain.errors import Forbidden
from tokend.domain.scopes import Scope, ScopeType
from tokend.domain.tokens import Token


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    token: Token

    def ensure_can_manage_tokens(self) -> None:
        if self.user.is_service:
            raise Forbidden("A service token can only introspect tokens (POST /v1/introspect).")
        if self.token.project_id is not None:
            raise Forbidden("A project-scoped token cannot manage tokens.")

    def ensure_can_introspect(self) -> None:
        if not self.user.is_service:
            raise Forbidden(
                "Only a service token may introspect tokens; an operator makes one with "
                "'tokend admin create-service NAME'."
            )

    def can_see(self, token: Token) -> bool:
        if token.user_id != self.user.id:
            return False
        if self.token.scope.type is ScopeType.TEAM:
            return token.team_id == self.token.team_id
        return True

    def scope_for_new_token(self, requested_team_id: str | None) -> Scope:
        """The scope of a token this principal creates, given the team asked for."""
        own_team = self.token.team_id
        if own_team is not None:
            if requested_team_id not in (None, own_team):
                raise Forbidden("A team-scoped token can only create tokens for its own team.")
            return Scope.team(own_team)
        return Scope.team(requested_team_id) if requested_team_id else Scope.user()
