"""A person's own account: passwords (set by an operator, chosen through an invite,
changed on the account page) and invitations."""

from dataclasses import dataclass

from tokend.domain import ids
from tokend.domain.accounts import Team, User
from tokend.domain.audit import NOBODY, EventType, Requester
from tokend.domain.digest import Digester
from tokend.domain.errors import NotFound, SignInFailed, SignInLocked, ValidationFailed
from tokend.domain.invites import LIFETIME_MS, Invite
from tokend.domain.passwords import validate_password
from tokend.domain.principal import Person
from tokend.service.audit import record_account
from tokend.service.clock import Clock, system_clock
from tokend.service.passwords import PasswordHasher
from tokend.service.ports import UnitOfWork, UnitOfWorkFactory
from tokend.service.sessions import SessionService, SignedIn

# Base62 only (43 characters, 256 bits): the code travels in a URL path, and the log
# redaction replaces a run of 16+ base62 characters; token_urlsafe's '-' and '_' cut a
# code into shorter runs, which an access-log line would have kept.
INVITE_CODE_LENGTH = 43


class WrongPassword(ValidationFailed):
    """The current password given to change it is not the account's."""


class InviteInvalid(NotFound):
    """An invite code that is unknown, used or expired: one error for all three."""

    def __init__(self) -> None:
        super().__init__(
            "This invite link is not valid: it was used already, has expired, or was "
            "mistyped. Ask an operator for a new one."
        )


@dataclass(frozen=True, slots=True)
class NewInvite:
    invite: Invite
    code: str  # exists only here: the link is built on it
    user: User

    def __repr__(self) -> str:
        return f"NewInvite(invite={self.invite.id!r}, code='***')"


@dataclass(frozen=True, slots=True)
class AccountService:
    uow: UnitOfWorkFactory
    digester: Digester
    passwords: PasswordHasher
    sessions: SessionService
    clock: Clock = system_clock

    def set_password(self, username: str, password: str) -> User:
        """The operator's `tokend admin set-password`: ends every session of the user."""
        with self.uow() as uow:
            user = _person_named(uow, username)
        password_hash = self.passwords.hash(validate_password(password, user))
        with self.uow(write=True) as uow:
            uow.accounts.set_password_hash(user.id, password_hash)
            uow.sessions.delete_all(user.id)
            self._record(uow, EventType.PASSWORD_CHANGED, user.id, NOBODY)
            uow.commit()
        return user

    def invite(self, username: str) -> NewInvite:
        now = self.clock()
        code = ids.random_base62(INVITE_CODE_LENGTH)
        with self.uow(write=True) as uow:
            user = _person_named(uow, username)
            invite = Invite(
                id=ids.new_invite_id(),
                digest=self.digester.digest(code),
                user_id=user.id,
                created_at=now,
                expires_at=now + LIFETIME_MS,
            )
            uow.invites.add(invite)
            self._record(uow, EventType.INVITE_CREATED, user.id, NOBODY)
            uow.commit()
        return NewInvite(invite, code, user)

    def invited(self, code: str) -> User:
        """Whom a usable invite is for (the page greets them); raises `InviteInvalid`."""
        with self.uow() as uow:
            _invite, user = self._usable(uow, code)
        return user

    def accept_invite(self, code: str, password: str, requester: Requester = NOBODY) -> SignedIn:
        """Set the password chosen on the invite page and sign the person in; the
        invite is spent even if two browsers race with it."""
        with self.uow() as uow:
            _invite, user = self._usable(uow, code)
        password_hash = self.passwords.hash(validate_password(password, user))
        with self.uow(write=True) as uow:
            invite, user = self._usable(uow, code)
            if not uow.invites.use(invite.id, self.clock()):
                raise InviteInvalid()
            uow.accounts.set_password_hash(user.id, password_hash)
            uow.sessions.delete_all(user.id)
            self._record(uow, EventType.INVITE_ACCEPTED, user.id, requester)
            signed_in = self.sessions.start(uow, user, requester)
            uow.commit()
        return signed_in

    def change_password(
        self, person: Person, current: str, new: str, requester: Requester = NOBODY
    ) -> None:
        """Change the person's password and end every other session of theirs."""
        user = person.user
        try:
            self.sessions.confirm_password(user, current, requester)
        except SignInFailed:
            raise WrongPassword("The current password is not correct.") from None
        except SignInLocked as locked:
            raise WrongPassword(str(locked)) from None
        new_hash = self.passwords.hash(validate_password(new, user))
        with self.uow(write=True) as uow:
            uow.accounts.set_password_hash(user.id, new_hash)
            uow.sessions.delete_all(user.id, except_id=person.session_id)
            self._record(uow, EventType.PASSWORD_CHANGED, user.id, requester)
            uow.commit()

    def teams(self, person: Person) -> list[Team]:
        """The teams the person is a member of, by slug (the scopes they may give a token)."""
        with self.uow() as uow:
            return uow.accounts.teams_of(person.user.id)

    def _usable(self, uow: UnitOfWork, code: str) -> tuple[Invite, User]:
        if not code or len(code) > 100:
            raise InviteInvalid()
        invite = uow.invites.get_by_digest(self.digester.digest(code))
        if invite is None or not invite.is_usable(self.clock()):
            raise InviteInvalid()
        user = uow.accounts.get_user(invite.user_id)
        if user is None:
            raise InviteInvalid()
        return invite, user

    def _record(
        self, uow: UnitOfWork, event: EventType, user_id: str, requester: Requester
    ) -> None:
        record_account(uow, event, now=self.clock(), user_id=user_id, requester=requester)


def _person_named(uow: UnitOfWork, username: str) -> User:
    user = uow.accounts.get_user_by_username(username)
    if user is None or user.is_service:
        raise NotFound(f"No user is named {username!r}.")
    return user
