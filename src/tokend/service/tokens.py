"""Token use cases: create, list, get, revoke, rotate."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from tokend.domain import ids
from tokend.domain.accounts import AccountKind, Team
from tokend.domain.audit import NOBODY, EventType, Requester
from tokend.domain.digest import Digester
from tokend.domain.errors import (
    Conflict,
    Forbidden,
    NotFound,
    UnknownToken,
    ValidationFailed,
)
from tokend.domain.permissions import (
    BUILTIN,
    Operation,
    Permissions,
    ensure_grantable,
    ensure_known,
)
from tokend.domain.permissions import requested as requested_permissions
from tokend.domain.policy import NO_POLICY, NO_RULES, Policy, PolicyRules
from tokend.domain.principal import Actor, Principal
from tokend.domain.scopes import Scope
from tokend.domain.secret import SecretFormat
from tokend.domain.tokens import (
    Origin,
    Token,
    validate_expiry,
    validate_name,
    validate_overlap,
    validate_project_id,
)
from tokend.service.audit import record
from tokend.service.clock import Clock, system_clock
from tokend.service.ports import UnitOfWork, UnitOfWorkFactory

CURRENT = "current"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly made token and its secret, which exists only in this object."""

    token: Token
    secret: str

    def __repr__(self) -> str:
        return f"IssuedToken(token={self.token.id!r}, secret='***')"


@dataclass(frozen=True, slots=True)
class TokenPage:
    tokens: list[Token]
    next: int | None
    prev: int | None


@dataclass(frozen=True, slots=True)
class TeamRef:
    """A team named by id or by slug, as the create endpoint accepts either."""

    team_id: str | None = None
    slug: str | None = None

    def of_member(self, uow: UnitOfWork, user_id: str) -> Team | None:
        """The team, if it exists and ``user_id`` is a member: one statement either way."""
        if not self:
            return None
        return uow.accounts.team_of_member(user_id, team_id=self.team_id, slug=self.slug)

    def __bool__(self) -> bool:
        return self.team_id is not None or self.slug is not None


class FormAlreadyUsed(Conflict):
    """A create form older than the user's newest token."""


def _nobody_to_tell(_token_id: str) -> None:
    pass


@dataclass(frozen=True, slots=True)
class TokenService:
    uow: UnitOfWorkFactory
    secret_format: SecretFormat
    digester: Digester
    clock: Clock = system_clock
    # Called after a revocation commits: this process's cache forgets the token at
    # once; the others hear of it through the revocation feed.
    revoked: Callable[[str], None] = _nobody_to_tell
    # The instance's lifecycle policy (settings); teams' own are in the database.
    policy: PolicyRules = NO_RULES

    def issue(
        self,
        uow: UnitOfWork,
        *,
        user_id: str,
        name: str,
        scope: Scope,
        expires_at: int | None = None,
        project_id: str | None = None,
        origin: Origin = Origin.MANUAL,
        expiry_chosen: bool = False,
        permissions: Permissions = None,
    ) -> IssuedToken:
        """Add a token inside the caller's transaction (shared with admin bootstrap,
        rotation, device logins and OAuth). The lifecycle policy bounds its expiry:
        ``expiry_chosen`` (a person chose ``expires_at``, as on create) refuses one beyond the
        maximum lifetime; otherwise it is cut to it."""
        now = self.clock()
        name = validate_name(name)
        expires_at = validate_expiry(expires_at, now)
        policy = self.policy_for(uow, user_id, scope.team_id)
        expires_at = policy.expiry_for_new_token(expires_at, now, chosen=expiry_chosen)
        project_id = validate_project_id(project_id)
        # createdAt doubles as the paging cursor, so it is kept unique per user:
        # a token made in the same millisecond as the previous one takes the next.
        newest = uow.tokens.newest_created_at(user_id)
        created_at = now if newest is None else max(now, newest + 1)
        secret = self.secret_format.generate()
        token = Token(
            id=ids.new_token_id(),
            user_id=user_id,
            name=name,
            digest=self.digester.digest(secret),
            prefix=self.secret_format.prefix,
            suffix=self.secret_format.suffix(secret),
            origin=origin,
            scope=scope,
            created_at=created_at,
            active_at=created_at,
            expires_at=expires_at,
            project_id=project_id,
            inactivity_ms=policy.inactivity_ms,
            permissions=permissions,
        )
        uow.tokens.add(token)
        return IssuedToken(token=token, secret=secret)

    def policy_for(self, uow: UnitOfWork, user_id: str, team_id: str | None) -> Policy:
        """The lifecycle policy a new token of this user (in this team) obeys: the
        instance's, the team's own if stricter, none for an exempt service account."""
        if not self.policy.instance and team_id is None:
            return NO_POLICY  # nothing to look up
        team = uow.team_policies.get(team_id) if team_id is not None else None
        if not self.policy.instance and team is None:
            return NO_POLICY
        user = uow.accounts.get_user(user_id)
        kind = user.kind if user is not None else AccountKind.USER
        return self.policy.effective(kind, team)

    def _in_force(self, token: Token, kind: AccountKind) -> Token:
        """``token`` as read (its team's inactivity limit) with the limit in force."""
        limit = self.policy.inactivity_ms(kind, token.inactivity_ms)
        return token if limit == token.inactivity_ms else replace(token, inactivity_ms=limit)

    def create(
        self,
        principal: Actor,
        *,
        name: str,
        expires_at: int | None = None,
        project_id: str | None = None,
        team: TeamRef | None = None,
        requester: Requester = NOBODY,
        unless_created_since: int | None = None,
        permissions: Iterable[str] | None = None,
    ) -> IssuedToken:
        """``unless_created_since``: refuse (`FormAlreadyUsed`) if the user made a token
        at or after this instant: a web form sent again (a reload of its answer) must
        not make a second token. ``permissions``: the new token may do only these
        (None: unrestricted); a restricted actor grants a subset of its own only."""
        principal.ensure_can_manage_tokens()
        principal.ensure_allowed(Operation.CREATE_TOKEN)
        granted = requested_permissions(permissions)
        ensure_grantable(granted, principal.permissions)
        with self.uow(write=True) as uow:
            if granted:
                ensure_known(granted, uow.permissions.known(granted - BUILTIN.keys()))
            self._ensure_actor_live(uow, principal)
            if unless_created_since is not None:
                # Locks the user's row: two sends of one form cannot both pass.
                newest = uow.tokens.newest_created_at(principal.user.id)
                if newest is not None and newest >= unless_created_since:
                    raise FormAlreadyUsed(
                        "A token was created since this form was shown (was it sent twice?): "
                        "check the list, then create again if you need another."
                    )
            team_id = None
            if team:
                # The same statement whether the team is missing or foreign: a slug
                # cannot be probed by timing the refusal.
                found = team.of_member(uow, principal.user.id)
                if found is None:
                    raise Forbidden("The team does not exist or you are not a member of it.")
                team_id = found.id
            scope = principal.scope_for_new_token(team_id)
            issued = self.issue(
                uow,
                user_id=principal.user.id,
                name=name,
                scope=scope,
                expires_at=expires_at,
                project_id=project_id,
                expiry_chosen=True,
                permissions=granted,
            )
            self._record(uow, EventType.TOKEN_CREATED, issued.token, principal, requester)
            uow.commit()
        return issued

    def list(
        self,
        principal: Actor,
        *,
        limit: int = 20,
        until: int | None = None,
        since: int | None = None,
    ) -> TokenPage:
        principal.ensure_can_manage_tokens()
        principal.ensure_allowed(Operation.LIST_TOKENS)
        if not 1 <= limit <= 100:
            raise ValidationFailed("limit must be between 1 and 100.")
        user_id, team_id = principal.user.id, principal.team_id
        with self.uow() as uow:
            tokens = uow.tokens.list_live(user_id, team_id, limit=limit, until=until, since=since)
            if not tokens:
                return TokenPage(tokens=[], next=None, prev=None)
            newest, oldest = tokens[0].created_at, tokens[-1].created_at
            older = uow.tokens.has_live(user_id, team_id, before=oldest)
            newer = uow.tokens.has_live(user_id, team_id, after=newest)
        kind = principal.user.kind
        tokens = [self._in_force(token, kind) for token in tokens]
        return TokenPage(
            tokens=tokens, next=oldest if older else None, prev=newest if newer else None
        )

    def get(self, principal: Actor, token_id: str) -> Token:
        principal.ensure_can_manage_tokens()
        principal.ensure_allowed(Operation.GET_TOKEN)
        if token_id == CURRENT:
            if isinstance(principal, Principal):
                return principal.token  # as verified for this very request
            raise _not_found()  # a person in a browser has no current token
        if not ids.is_token_id(token_id):
            raise _not_found()
        with self.uow() as uow:
            token = uow.tokens.get(token_id)
        return self._in_force(self._visible(principal, token), principal.user.kind)

    def revoke(self, principal: Actor, token_id: str, requester: Requester = NOBODY) -> str:
        target = self._target(principal, token_id)
        principal.ensure_allowed(Operation.REVOKE_TOKEN)
        with self.uow(write=True) as uow:
            self._ensure_actor_live(uow, principal)
            token = self._in_force(
                self._visible(principal, uow.tokens.get(target)), principal.user.kind
            )
            self._revoke(uow, principal, token, EventType.TOKEN_REVOKED, requester)
            uow.commit()
        self.revoked(target)
        return target

    def rotate(
        self,
        principal: Actor,
        token_id: str,
        requester: Requester = NOBODY,
        *,
        overlap_ms: int | None = None,
    ) -> IssuedToken:
        """Revoke the token and issue its successor in one transaction: same name,
        scope, project, permissions and lifetime length, counted from now (within the
        policy's maximum lifetime). With ``overlap_ms`` the old token is not revoked: it
        keeps working until now + overlap_ms (or its own expiry, if sooner)."""
        overlap_ms = validate_overlap(overlap_ms)
        target = self._target(principal, token_id)
        itself = target == principal.token_id
        principal.ensure_allowed(Operation.ROTATE_ITSELF if itself else Operation.ROTATE_TOKEN)
        with self.uow(write=True) as uow:
            self._ensure_actor_live(uow, principal)
            old = self._in_force(
                self._visible(principal, uow.tokens.get(target)), principal.user.kind
            )
            if old.team_id is not None and not uow.accounts.is_member(old.team_id, old.user_id):
                raise Forbidden("You are no longer a member of this token's team.")
            successor_expiry = old.successor_expiry(self.clock())
            if overlap_ms is None:
                old = self._revoke(uow, principal, old, EventType.TOKEN_ROTATED, requester)
            else:
                old = self._shorten(uow, principal, old, overlap_ms, requester)
            issued = self.issue(
                uow,
                user_id=old.user_id,
                name=old.name,
                scope=old.scope,
                expires_at=successor_expiry,
                project_id=old.project_id,
                origin=old.origin,
                permissions=old.permissions,
            )
            self._record(uow, EventType.TOKEN_CREATED, issued.token, principal, requester)
            uow.commit()
        self.revoked(target)
        return issued

    def _ensure_actor_live(self, uow: UnitOfWork, principal: Actor) -> None:
        """Re-read the acting token inside the write's transaction: a token revoked a
        moment ago elsewhere, which this process may still hold as verified, changes
        nothing."""
        if principal.token_id is None:
            return  # a person: the web layer checked the session on this request
        acting = uow.tokens.get(principal.token_id)
        if acting is None:
            raise UnknownToken("The token is not valid.")
        self._in_force(acting, principal.user.kind).ensure_live(self.clock())

    def _target(self, principal: Actor, token_id: str) -> str:
        principal.ensure_can_manage_tokens()
        target = self._current(principal) if token_id == CURRENT else token_id
        if not ids.is_token_id(target):
            raise _not_found()
        return target

    @staticmethod
    def _current(actor: Actor) -> str:
        if actor.token_id is None:
            raise _not_found()  # a person in a browser has no current token
        return actor.token_id

    def _revoke(
        self,
        uow: UnitOfWork,
        principal: Actor,
        token: Token,
        event: EventType,
        requester: Requester,
    ) -> Token:
        """Revoke ``token`` (read in this transaction) and record it; returns it revoked."""
        now = self.clock()
        if not uow.tokens.revoke(token.id, now):
            raise _not_found()  # revoked by someone else since it was read
        token = replace(token, revoked_at=now)
        self._record(uow, event, token, principal, requester)
        return token

    def _shorten(
        self,
        uow: UnitOfWork,
        principal: Actor,
        token: Token,
        overlap_ms: int,
        requester: Requester,
    ) -> Token:
        """Rotation with overlap: ``token`` expires ``overlap_ms`` from now unless it
        expires sooner already; recorded as rotated, with that expiry."""
        now = self.clock()
        until = now + overlap_ms
        if token.expires_at is None or token.expires_at > until:
            if not uow.tokens.shorten(token.id, until, now):
                raise _not_found()  # revoked by someone else since it was read
            token = replace(token, expires_at=until)
        self._record(uow, EventType.TOKEN_ROTATED, token, principal, requester)
        return token

    def _record(
        self,
        uow: UnitOfWork,
        event: EventType,
        token: Token,
        actor: Actor | None,
        requester: Requester,
    ) -> None:
        record(uow, event, now=self.clock(), token=token, actor=actor, requester=requester)

    @staticmethod
    def _visible(principal: Actor, token: Token | None) -> Token:
        # Someone else's token and a missing one look the same, so ids cannot be probed.
        if token is None or not token.is_listed or not principal.can_see(token):
            raise _not_found()
        return token


def _not_found() -> NotFound:
    # The id is not echoed back: clients have been known to paste a secret there.
    return NotFound("The token was not found.")
