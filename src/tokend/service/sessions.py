"""Signing in and out of the web pages, and the sessions that follow.

A sign-in checks, in order: the address's failure limit (the counters of bearer
failures), the name's failure limit (10 in 15 minutes, in the database so every node
sees it), then the password. An unknown name costs the same argon2 work as a wrong
password and gets the same message; a locked name is refused before any hashing,
whether it exists or not.
"""

import hashlib
from dataclasses import dataclass

from tokend.domain import ids
from tokend.domain.accounts import User
from tokend.domain.audit import NOBODY, EventType, Requester
from tokend.domain.digest import Digester
from tokend.domain.errors import NotFound, SessionEnded, SignInFailed, SignInLocked
from tokend.domain.principal import Person
from tokend.domain.sessions import Session, new_secret
from tokend.service.audit import record_account
from tokend.service.clock import Clock, seconds_until, system_clock
from tokend.service.passwords import PasswordHasher
from tokend.service.ports import UnitOfWork, UnitOfWorkFactory
from tokend.service.rate_limit import RateLimiter

ACCOUNT_FAILURE_LIMIT = 10
ACCOUNT_FAILURE_WINDOW_MS = 15 * 60_000
LOGIN_MAX_LENGTH = 320


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session and the secret for its cookie, which exists only in this object."""

    person: Person
    session: Session
    secret: str

    def __repr__(self) -> str:
        return f"SignedIn(session={self.session.id!r}, secret='***')"


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle_ms: int
    absolute_ms: int


@dataclass(frozen=True, slots=True)
class SessionService:
    uow: UnitOfWorkFactory
    digester: Digester
    passwords: PasswordHasher
    policy: SessionPolicy
    address_limiter: RateLimiter
    clock: Clock = system_clock

    def sign_in(self, login: str, password: str, requester: Requester = NOBODY) -> SignedIn:
        """Raises `SignInFailed`, `SignInLocked`, or `RateLimited` (the address)."""
        login = login.strip()[:LOGIN_MAX_LENGTH]
        with self.uow() as uow:
            user = uow.accounts.find_by_login(login) if login else None
            if user is not None and user.is_service:
                user = None  # a service account has no password to sign in with
            password_hash = uow.accounts.password_hash(user.id) if user else None
        self._check(user, login, password_hash, password, requester)
        # _check passed: the user exists and has a password.
        assert user is not None
        assert password_hash is not None
        rehash = None
        if self.passwords.needs_rehash(password_hash):
            rehash = self.passwords.hash(password)
        with self.uow(write=True) as uow:
            if rehash is not None:
                uow.accounts.set_password_hash(user.id, rehash)
            signed_in = self.start(uow, user, requester)
            uow.commit()
        return signed_in

    def confirm_password(self, user: User, password: str, requester: Requester = NOBODY) -> None:
        """Check a signed-in person's password again (to change it), under the same
        limits as a sign-in: a wrong one counts against the account and the address,
        so a stolen session cannot guess it any faster. Raises `SignInFailed`,
        `SignInLocked` or `RateLimited`."""
        with self.uow() as uow:
            password_hash = uow.accounts.password_hash(user.id)
        self._check(user, user.username, password_hash, password, requester)

    def start(
        self,
        uow: UnitOfWork,
        user: User,
        requester: Requester,
        *,
        event: EventType = EventType.SIGNED_IN,
    ) -> SignedIn:
        """A new session for ``user``, in the caller's transaction (sign-in, invite,
        sign-in through the identity provider, recorded as ``event``)."""
        now = self.clock()
        policy = self.policy
        uow.sessions.delete_ended(user.id, now - policy.idle_ms, now - policy.absolute_ms)
        secret = new_secret()
        session = Session(
            id=ids.new_session_id(),
            digest=self.digester.digest(secret),
            user_id=user.id,
            created_at=now,
            seen_at=now,
            requester=requester,
        )
        uow.sessions.add(session)
        record_account(uow, event, now=now, user_id=user.id, requester=requester)
        return SignedIn(Person(user, session.id), session, secret)

    def resolve(self, secret: str | None) -> tuple[Person, Session]:
        """The signed-in person of a session cookie; raises `SessionEnded`."""
        if not secret or len(secret) > 100:
            raise SessionEnded("Not signed in.")
        digest = self.digester.digest(secret)
        now = self.clock()
        with self.uow() as uow:
            session = uow.sessions.get_by_digest(digest)
            user = uow.accounts.get_user(session.user_id) if session else None
        if session is None or user is None:
            raise SessionEnded("Not signed in.")
        if not session.is_live(now, self.policy.idle_ms, self.policy.absolute_ms):
            raise SessionEnded("Your session has ended; sign in again.")
        if session.needs_seen_update(now):
            with self.uow(write=True) as uow:
                uow.sessions.touch(session.id, now)
                uow.commit()
        return Person(user, session.id), session

    def sign_out(self, person: Person, requester: Requester = NOBODY) -> None:
        with self.uow(write=True) as uow:
            if uow.sessions.delete(person.session_id, person.user.id):
                self._record(uow, EventType.SIGNED_OUT, person.user.id, requester)
            uow.commit()

    def list(self, person: Person) -> list[Session]:
        now = self.clock()
        with self.uow() as uow:
            found = uow.sessions.list_for(person.user.id)
        return [s for s in found if s.is_live(now, self.policy.idle_ms, self.policy.absolute_ms)]

    def end(self, person: Person, session_id: str, requester: Requester = NOBODY) -> None:
        """End one of the person's sessions (this one included)."""
        with self.uow(write=True) as uow:
            if not uow.sessions.delete(session_id, person.user.id):
                raise NotFound("No such session.")
            self._record(uow, EventType.SESSION_ENDED, person.user.id, requester)
            uow.commit()

    def _check(
        self,
        user: User | None,
        login: str,
        password_hash: str | None,
        password: str,
        requester: Requester,
    ) -> None:
        """The password check of a sign-in or a password change, within the address's
        and the account's limits; ``user`` None (an unknown name) always fails, after
        the same argon2 work as a wrong password. Raises `SignInFailed`,
        `SignInLocked` or `RateLimited`."""
        if self.address_limiter.enabled:
            self.address_limiter.check(requester.ip or "")
        key = _failure_key(user, login)
        self._count_attempt(key)
        # Outside any transaction: argon2 takes a tenth of a second on purpose. With no
        # hash (no such user, or no password set) it checks against a dummy one.
        if not self.passwords.verify(password_hash, password) or user is None:
            self._failed(user, requester)
            raise SignInFailed()
        self._refund_attempt(key)

    def _count_attempt(self, key: str) -> None:
        """Count the attempt as a failure before the password is checked, refunded if
        it is right: concurrent guesses (many threads, many nodes) are each counted in
        one atomic upsert before any is checked, so no more than the limit ever reach
        argon2 in a window. Raises `SignInLocked` past the limit."""
        now = self.clock()
        with self.uow(write=True) as uow:
            count = uow.sign_in_failures.add(key, now, ACCOUNT_FAILURE_WINDOW_MS)
            uow.commit()
        if count.failures > ACCOUNT_FAILURE_LIMIT:
            raise SignInLocked(retry_after_s=seconds_until(count.window_ends, now))

    def _refund_attempt(self, key: str) -> None:
        with self.uow(write=True) as uow:
            uow.sign_in_failures.refund(key, self.clock())
            uow.commit()

    def _failed(self, user: User | None, requester: Requester) -> None:
        with self.uow(write=True) as uow:
            self._record(uow, EventType.SIGN_IN_FAILED, user.id if user else None, requester)
            uow.commit()
        if self.address_limiter.enabled:
            self.address_limiter.record_failure(requester.ip or "")

    def _record(
        self, uow: UnitOfWork, event: EventType, user_id: str | None, requester: Requester
    ) -> None:
        record_account(uow, event, now=self.clock(), user_id=user_id, requester=requester)


def _failure_key(user: User | None, login: str) -> str:
    """One count per account, whichever of its names is typed; an unknown name has a
    count of its own, so it locks exactly as an account would."""
    if user is not None:
        return f"user:{user.id}"
    return "name:" + hashlib.sha256(login.casefold().encode()).hexdigest()
