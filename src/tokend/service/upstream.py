"""Sign-in through an upstream OpenID Connect provider (SPEC §10): authorization
code with PKCE and a nonce, the person matched by (issuer, sub), and created at
their first sign-in when the operator allows it.

The state, the PKCE verifier and the nonce are made here, for one trip of one
browser; the state is stored as a digest and taken back exactly once, so a callback
replayed, or sent from a browser that did not start the trip (the web layer checks
its cookie), signs nobody in.
"""

import contextlib
import logging
import secrets
from dataclasses import dataclass, field

from tokend.domain import ids
from tokend.domain.accounts import User, validate_display_name, validate_email
from tokend.domain.audit import NOBODY, EventType, Requester
from tokend.domain.digest import Digester
from tokend.domain.errors import Conflict, NotFound, ValidationFailed
from tokend.domain.upstream import (
    NoLinkedAccount,
    PendingSignIn,
    ProviderRejected,
    ProviderUnavailable,
    SignInStateInvalid,
    TooManySignIns,
    UserIdentity,
    VerifiedClaims,
    email_domain_allowed,
    username_base,
    username_candidates,
)
from tokend.service.audit import record_account
from tokend.service.clock import Clock, seconds_until, system_clock
from tokend.service.ports import IdentityProvider, UnitOfWork, UnitOfWorkFactory
from tokend.service.sessions import SessionService, SignedIn

log = logging.getLogger("tokend.upstream")

# Where the provider sends the browser back: register PUBLIC_URL + this there.
UPSTREAM_CALLBACK = "/login/upstream/callback"
SIGN_IN_LIFETIME_MS = 10 * 60_000
# Sign-ins under way from one address; generous for an office behind one NAT, whose
# people finish theirs (which removes the row) within seconds.
MAX_PENDING_PER_ADDRESS = 30
STATE_MAX_LENGTH = 100
CODE_MAX_LENGTH = 4096  # Entra ID's codes run past a thousand characters
USERNAME_TRIES = 20


@dataclass(frozen=True, slots=True)
class StartedSignIn:
    """Where to send the browser, and the state it must come back with (which the web
    layer also keeps in a cookie of that browser)."""

    url: str
    state: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class FinishedSignIn:
    signed_in: SignedIn
    next_path: str


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    create_users: bool
    email_domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UpstreamSignInService:
    uow: UnitOfWorkFactory
    digester: Digester
    provider: IdentityProvider
    sessions: SessionService
    policy: AccountPolicy
    label: str  # the button's words, "Sign in with ..."
    clock: Clock = system_clock
    max_pending_per_address: int = MAX_PENDING_PER_ADDRESS

    def start(self, next_path: str, requester: Requester = NOBODY) -> StartedSignIn:
        """Raises `ProviderUnavailable` (its discovery document could not be read), or
        `TooManySignIns` (the address has `max_pending_per_address` under way): each
        start stores a row until the browser comes back or it expires, and anyone may
        start one."""
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43-128
        url = self.provider.authorization_url(state=state, nonce=nonce, code_verifier=verifier)
        now = self.clock()
        with self.uow(write=True) as uow:
            uow.upstream_sign_ins.prune(now)
            waiting = uow.upstream_sign_ins.pending_from(requester.ip, now)
            if len(waiting) >= self.max_pending_per_address:
                raise TooManySignIns(retry_after_s=seconds_until(min(waiting), now))
            uow.upstream_sign_ins.add(
                PendingSignIn(
                    state_digest=self.digester.digest(state),
                    code_verifier=verifier,
                    nonce=nonce,
                    next_path=next_path,
                    expires_at=now + SIGN_IN_LIFETIME_MS,
                    ip=requester.ip,
                )
            )
            uow.commit()
        return StartedSignIn(url, state)

    def abandon(self, state: str | None) -> str | None:
        """The provider answered with an error (the person said no): the trip is
        over; where they were going, if the state was theirs."""
        pending = self._take(state)
        return pending.next_path if pending else None

    def finish(self, state: str | None, code: str | None, requester: Requester) -> FinishedSignIn:
        """Raises `SignInStateInvalid`, `ProviderUnavailable`, `ProviderRejected` or
        `NoLinkedAccount`."""
        pending = self._take(state)
        if pending is None:
            raise SignInStateInvalid()
        if not code or len(code) > CODE_MAX_LENGTH:
            raise ProviderRejected()
        # Outside any transaction: the provider is a network away.
        claims = self.provider.verified_claims(
            code=code, code_verifier=pending.code_verifier, nonce=pending.nonce
        )
        # Twice at most: a first sign-in of the same person racing on another node
        # links first, and this one then finds the link.
        for _ in range(2):
            try:
                with self.uow(write=True) as uow:
                    user = self._user(uow, claims)
                    if user is None:
                        continue  # lost the race: rolled back, look again
                    signed_in = self.sessions.start(
                        uow, user, requester, event=EventType.SIGNED_IN_UPSTREAM
                    )
                    uow.commit()
                    return FinishedSignIn(signed_in, pending.next_path)
            except NoLinkedAccount as refused:
                self._record_refusal(claims, refused, requester)
                raise
        log.warning("sign-in through %s: the identity could not be linked", claims.issuer)
        raise ProviderUnavailable()

    def link(self, username: str, subject: str) -> User:
        """Link an existing account to the provider's ``sub`` for it, so that the person
        signs in through the provider (the operator's way in while accounts are not
        created at first sign-in)."""
        subject = subject.strip()
        if not subject or len(subject) > 255:
            raise ValidationFailed("The subject (sub) must be 1 to 255 characters.")
        with self.uow(write=True) as uow:
            user = uow.accounts.get_user_by_username(username)
            if user is None or user.is_service:
                raise NotFound(f"No person has the username {username!r}.")
            issuer = self.provider.issuer
            existing = uow.user_identities.get(issuer, subject)
            if existing is not None and existing.user_id != user.id:
                raise Conflict("That subject is linked to another account already.")
            if existing is None:
                uow.user_identities.add(UserIdentity(issuer, subject, user.id, self.clock()))
            uow.commit()
        return user

    def _take(self, state: str | None) -> PendingSignIn | None:
        if not state or len(state) > STATE_MAX_LENGTH:
            return None
        with self.uow(write=True) as uow:
            pending = uow.upstream_sign_ins.take(self.digester.digest(state))
            uow.commit()
        if pending is None or pending.expires_at <= self.clock():
            return None
        return pending

    def _user(self, uow: UnitOfWork, claims: VerifiedClaims) -> User | None:
        """The linked user, or a new one linked now; None if another transaction
        linked this person first. Raises `NoLinkedAccount`."""
        identity = uow.user_identities.get(claims.issuer, claims.subject)
        if identity is not None:
            user = uow.accounts.get_user(identity.user_id)
            if user is None or user.is_service:
                raise NoLinkedAccount(claims.subject, "its tokend account is gone.")
            return user
        if not self.policy.create_users:
            raise NoLinkedAccount(claims.subject, "no tokend account is linked to it.")
        if not email_domain_allowed(claims, list(self.policy.email_domains)):
            raise NoLinkedAccount(
                claims.subject, "tokend makes accounts only for verified emails of its domains."
            )
        user = self._new_user(uow, claims)
        uow.accounts.add_user(user)
        linked = uow.user_identities.add(
            UserIdentity(claims.issuer, claims.subject, user.id, self.clock())
        )
        if linked:
            log.info("account %s created at its first sign-in through %s", user.id, claims.issuer)
        return user if linked else None

    def _new_user(self, uow: UnitOfWork, claims: VerifiedClaims) -> User:
        base = username_base(claims)
        taken = uow.accounts.get_user_by_username
        free = [name for name in username_candidates(base, USERNAME_TRIES) if taken(name) is None]
        username = free[0] if free else f"{base}-{secrets.token_hex(4)}"
        email = f"{username}@localhost"  # as `tokend admin create-user` without --email
        if claims.email and claims.email_verified:
            with contextlib.suppress(ValidationFailed):
                email = validate_email(claims.email)
        try:
            name = validate_display_name(claims.name)
        except ValidationFailed:
            name = None
        return User(
            id=ids.new_user_id(), username=username, email=email, name=name, created_at=self.clock()
        )

    def _record_refusal(
        self, claims: VerifiedClaims, refused: NoLinkedAccount, requester: Requester
    ) -> None:
        """A failed sign-in with no user (kept for operators, as an unknown name's)."""
        with self.uow(write=True) as uow:
            record_account(
                uow, EventType.SIGN_IN_FAILED, now=self.clock(), user_id=None, requester=requester
            )
            uow.commit()
        log.info(
            "sign-in through %s refused for sub %r: %s",
            claims.issuer,
            refused.subject,
            refused.reason,
        )
