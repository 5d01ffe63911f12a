"""Operator use cases: users, teams, membership, and a user's first token."""

from dataclasses import dataclass

from tokend.domain import ids
from tokend.domain.accounts import (
    AccountKind,
    Team,
    User,
    validate_display_name,
    validate_email,
    validate_slug,
    validate_username,
)
from tokend.domain.audit import NOBODY, EventType
from tokend.domain.errors import Conflict, NotFound
from tokend.domain.scopes import Scope
from tokend.service.audit import record
from tokend.service.clock import Clock, system_clock
from tokend.service.ports import UnitOfWork, UnitOfWorkFactory
from tokend.service.tokens import IssuedToken, TokenService

BOOTSTRAP_TOKEN_NAME = "bootstrap"
SERVICE_TOKEN_NAME = "service"


@dataclass(frozen=True, slots=True)
class NewUser:
    user: User
    issued: IssuedToken


@dataclass(frozen=True, slots=True)
class AdminService:
    uow: UnitOfWorkFactory
    tokens: TokenService
    clock: Clock = system_clock

    def create_user(
        self, username: str, *, email: str | None = None, name: str | None = None
    ) -> NewUser:
        return self._create_account(
            username, email=email, name=name, kind=AccountKind.USER, token=BOOTSTRAP_TOKEN_NAME
        )

    def create_service(self, name: str) -> NewUser:
        """A resource server's account and its token, which may only introspect tokens."""
        return self._create_account(
            name, email=None, name=None, kind=AccountKind.SERVICE, token=SERVICE_TOKEN_NAME
        )

    def _create_account(
        self, username: str, *, email: str | None, name: str | None, kind: AccountKind, token: str
    ) -> NewUser:
        username = validate_username(username)
        user = User(
            id=ids.new_user_id(),
            username=username,
            email=validate_email(email) if email is not None else f"{username}@localhost",
            name=validate_display_name(name),
            created_at=self.clock(),
            kind=kind,
        )
        with self.uow(write=True) as uow:
            if uow.accounts.get_user_by_username(username) is not None:
                raise Conflict(f"An account named {username!r} already exists.")
            uow.accounts.add_user(user)
            issued = self.tokens.issue(uow, user_id=user.id, name=token, scope=Scope.user())
            record(
                uow,
                EventType.TOKEN_CREATED,
                now=self.clock(),
                token=issued.token,
                actor=None,
                requester=NOBODY,
            )
            uow.commit()
        return NewUser(user=user, issued=issued)

    def create_team(self, slug: str, *, owner: str, name: str | None = None) -> Team:
        slug = validate_slug(slug)
        now = self.clock()
        team = Team(
            id=ids.new_team_id(),
            slug=slug,
            name=validate_display_name(name) or slug,
            created_at=now,
        )
        with self.uow(write=True) as uow:
            owner_user = _user(uow, owner)
            if uow.accounts.get_team_by_slug(slug) is not None:
                raise Conflict(f"A team with slug {slug!r} already exists.")
            uow.accounts.add_team(team)
            uow.accounts.add_member(team.id, owner_user.id, "owner", now)
            uow.commit()
        return team

    def add_member(self, slug: str, username: str) -> tuple[Team, User, bool]:
        """Add the user to the team; the flag says whether they were not a member before."""
        with self.uow(write=True) as uow:
            team = uow.accounts.get_team_by_slug(slug)
            if team is None:
                raise NotFound(f"No team has the slug {slug!r}.")
            user = _user(uow, username)
            added = uow.accounts.add_member(team.id, user.id, "member", self.clock())
            uow.commit()
        return team, user, added


def _user(uow: UnitOfWork, username: str) -> User:
    user = uow.accounts.get_user_by_username(username)
    if user is None:
        raise NotFound(f"No user is named {username!r}.")
    return user
