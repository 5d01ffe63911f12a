"""Who is acting, and what they may do to tokens: a bearer token's `Principal`, or a
`Person` signed in to the web pages."""

from dataclasses import dataclass
from typing import Protocol

from tokend.domain.accounts import User
from tokend.domain.errors import Forbidden
from tokend.domain.permissions import Operation, Permissions, ensure_allows
from tokend.domain.scopes import Scope, ScopeType
from tokend.domain.tokens import Token


class Actor(Protocol):
    """What the token use cases need to know of whoever acts."""

    @property
    def user(self) -> User: ...

    @property
    def token_id(self) -> str | None:
        """The token making the request; None for a person in a browser."""
        ...

    @property
    def team_id(self) -> str | None:
        """The team the actor is confined to; None for the whole user."""
        ...

    @property
    def permissions(self) -> Permissions:
        """What the actor may do; None: anything its user may."""
        ...

    def ensure_can_manage_tokens(self) -> None: ...

    def ensure_allowed(self, operation: Operation) -> None:
        """Raise `Forbidden` unless the actor's permissions allow ``operation``."""
        ...

    def can_see(self, token: Token) -> bool: ...

    def scope_for_new_token(self, requested_team_id: str | None) -> Scope: ...


@dataclass(frozen=True, slots=True)
class Principal:
    """A request authenticated by a bearer token."""

    user: User
    token: Token

    @property
    def token_id(self) -> str:
        return self.token.id

    @property
    def team_id(self) -> str | None:
        return self.token.team_id

    @property
    def permissions(self) -> Permissions:
        return self.token.permissions

    def ensure_allowed(self, operation: Operation) -> None:
        ensure_allows(self.token.permissions, operation)

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


@dataclass(frozen=True, slots=True)
class Person:
    """A user signed in with a password (a browser session): all their tokens, personal
    and of every team they are in, are theirs to manage."""

    user: User
    session_id: str

    @property
    def token_id(self) -> None:
        return None

    @property
    def team_id(self) -> None:
        return None

    @property
    def permissions(self) -> None:
        return None  # a person signed in may do all their account may

    def ensure_allowed(self, operation: Operation) -> None:
        pass

    def ensure_can_manage_tokens(self) -> None:
        if self.user.is_service:
            raise Forbidden("A service account cannot sign in.")

    def can_see(self, token: Token) -> bool:
        return token.user_id == self.user.id

    def scope_for_new_token(self, requested_team_id: str | None) -> Scope:
        return Scope.team(requested_team_id) if requested_team_id else Scope.user()
