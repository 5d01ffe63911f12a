"""What the service layer needs from storage, as protocols the storage layer fulfils."""

from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import NamedTuple, Protocol, Self

from tokend.domain.accounts import Team, User
from tokend.domain.audit import AuditEvent
from tokend.domain.device import DeviceAuthorization, DeviceStatus
from tokend.domain.integrations import Integration
from tokend.domain.invites import Invite
from tokend.domain.oauth import AuthorizationCode, Grant, RefreshToken
from tokend.domain.permissions import CataloguedPermission
from tokend.domain.policy import Policy
from tokend.domain.sessions import Session
from tokend.domain.signing_keys import StoredSigningKey
from tokend.domain.tokens import Token
from tokend.domain.upstream import PendingSignIn, UserIdentity, VerifiedClaims
from tokend.domain.webhooks import Attempt, Delivery, DeliveryStatus, Webhook


class FailureCount(NamedTuple):
    failures: int  # in the key's current window, the one just added included
    window_ends: int  # ms since the epoch


class TokenRepository(Protocol):
    def add(self, token: Token) -> None: ...

    def get(self, token_id: str) -> Token | None: ...

    def get_with_owner(self, digest: bytes) -> tuple[Token, User] | None:
        """The token with this digest and its user, in one round trip; the token's
        `inactivity_ms` is its team policy's (None for a personal token, or a team
        without one), for the caller to merge with the instance's."""
        ...

    def newest_created_at(self, user_id: str) -> int | None:
        """The newest ``created_at`` of the user's tokens, serialising creators of that user."""
        ...

    def list_live(
        self,
        user_id: str,
        team_id: str | None,
        *,
        limit: int,
        until: int | None,
        since: int | None,
    ) -> list[Token]:
        """Unrevoked tokens, newest first: the newest older than ``until``, or, with only
        ``since``, the oldest newer than it."""
        ...

    def has_live(
        self,
        user_id: str,
        team_id: str | None,
        *,
        before: int | None = None,
        after: int | None = None,
    ) -> bool: ...

    def revoke(
        self, token_id: str, now: int, *, leaked: bool = False, leaked_url: str | None = None
    ) -> bool:
        """Revoke a live token (and mark it leaked, if so), telling every process
        that shares the database; False if it was not live."""
        ...

    def shorten(self, token_id: str, expires_at: int, now: int) -> bool:
        """Move a live token's expiry forward to ``expires_at`` if that is sooner,
        telling every process that shares the database to read it again (through the
        revocation feed); False if it was not live or already expired sooner."""
        ...

    def touch_many(self, used_at: Mapping[str, int], resolution_ms: int) -> int:
        """Move activeAt forward for each token last written a window or more before its
        use; returns how many rows were written."""
        ...


class AccountRepository(Protocol):
    def add_user(self, user: User) -> None: ...

    def get_user(self, user_id: str) -> User | None: ...

    def get_user_by_username(self, username: str) -> User | None: ...

    def find_by_login(self, login: str) -> User | None:
        """The user whose username, or else only user whose email, is ``login`` (case
        ignored)."""
        ...

    def password_hash(self, user_id: str) -> str | None: ...

    def set_password_hash(self, user_id: str, password_hash: str) -> None: ...

    def teams_of(self, user_id: str) -> list[Team]: ...

    def add_team(self, team: Team) -> None: ...

    def get_team(self, team_id: str) -> Team | None: ...

    def get_team_by_slug(self, slug: str) -> Team | None: ...

    def add_member(self, team_id: str, user_id: str, role: str, now: int) -> bool: ...

    def is_member(self, team_id: str, user_id: str) -> bool: ...

    def team_of_member(
        self, user_id: str, *, team_id: str | None = None, slug: str | None = None
    ) -> Team | None:
        """The team named by id or slug if ``user_id`` is a member of it, in one
        statement: a team that does not exist and one the user is not in cost the
        same work, so the difference cannot be timed."""
        ...


class AuditLog(Protocol):
    def add(self, event: AuditEvent) -> AuditEvent:
        """Store the event; returns it as stored (its createdAt made unique per user)."""
        ...

    def list_for(
        self, user_id: str, team_id: str | None, *, limit: int, until: int | None
    ) -> list[AuditEvent]:
        """The user's events (only the team's, given one), newest first, older than
        ``until``."""
        ...


class SessionRepository(Protocol):
    def add(self, session: Session) -> None: ...

    def get_by_digest(self, digest: bytes) -> Session | None: ...

    def list_for(self, user_id: str) -> list[Session]:
        """The user's sessions, newest first."""
        ...

    def touch(self, session_id: str, now: int) -> None: ...

    def delete(self, session_id: str, user_id: str) -> bool: ...

    def delete_all(self, user_id: str, *, except_id: str | None = None) -> int: ...

    def delete_ended(self, user_id: str, idle_before: int, created_before: int) -> int: ...


class InviteRepository(Protocol):
    def add(self, invite: Invite) -> None: ...

    def get_by_digest(self, digest: bytes) -> Invite | None: ...

    def use(self, invite_id: str, now: int) -> bool:
        """Mark the invite used; False if it was used already (a race lost)."""
        ...


class DeviceRepository(Protocol):
    def add(self, device: DeviceAuthorization) -> None: ...

    def by_device_code(self, digest: bytes) -> DeviceAuthorization | None: ...

    def by_user_code(self, digest: bytes) -> DeviceAuthorization | None: ...

    def polled(self, device_id: str, now: int, interval_s: int) -> None: ...

    def decide(
        self, device_id: str, status: DeviceStatus, user_id: str | None, *, was: DeviceStatus
    ) -> bool:
        """Move from ``was`` to ``status``; False if it was no longer ``was``."""
        ...

    def prune(self, expired_before: int) -> None: ...

    def pending_from(self, ip: str | None, now: int) -> list[int]:
        """When each live pending code of this address expires."""
        ...


class SignInFailures(Protocol):
    """Failed sign-ins per account (or per unknown name), in the database, so every
    node sees the same count."""

    def add(self, key: str, now: int, window_ms: int) -> FailureCount: ...

    def refund(self, key: str, now: int) -> None:
        """Take back one failure of the window open at ``now`` (an attempt counted
        before it was checked, which succeeded); a window left with none is dropped."""
        ...


class UserIdentityRepository(Protocol):
    """Accounts at upstream identity providers linked to tokend users."""

    def get(self, issuer: str, subject: str) -> UserIdentity | None: ...

    def add(self, identity: UserIdentity) -> bool:
        """Link it; False if (issuer, subject) is linked already (a race lost)."""
        ...


class UpstreamSignInRepository(Protocol):
    """Sign-ins under way at the upstream provider, by their state's digest."""

    def add(self, pending: PendingSignIn) -> None: ...

    def take(self, state_digest: bytes) -> PendingSignIn | None:
        """Remove and return it: of two callbacks with the same state, one gets it."""
        ...

    def prune(self, expired_before: int) -> None: ...

    def pending_from(self, ip: str | None, now: int) -> list[int]:
        """When each of the address's live sign-ins expires."""
        ...


class IntegrationRepository(Protocol):
    def add(self, integration: Integration) -> None: ...

    def get(self, integration_id: str) -> Integration | None: ...

    def by_client_id(self, client_id: str) -> Integration | None: ...

    def list(self) -> list[Integration]: ...

    def remove(self, integration_id: str) -> bool:
        """Remove it with its codes, grants and refresh tokens (not the access tokens,
        which the caller revokes first)."""
        ...


class OAuthRepository(Protocol):
    """Codes, grants, refresh tokens and the access tokens issued under each grant."""

    def add_code(self, code: AuthorizationCode) -> None: ...

    def code_by_digest(self, digest: bytes) -> AuthorizationCode | None: ...

    def use_code(self, code_id: str, now: int, grant_id: str) -> bool:
        """Mark the code used, by ``grant_id``; False if it was used already."""
        ...

    def prune_codes(self, expired_before: int) -> None: ...

    def add_grant(self, grant: Grant) -> None: ...

    def get_grant(self, grant_id: str) -> Grant | None: ...

    def grant_ids_of(self, integration_id: str) -> list[str]: ...

    def revoke_grant(self, grant_id: str, now: int) -> bool:
        """Revoke the grant and its refresh tokens; False if it was revoked already."""
        ...

    def add_refresh_token(self, token: RefreshToken) -> None: ...

    def refresh_token_by_digest(self, digest: bytes) -> RefreshToken | None: ...

    def use_refresh_token(self, token_id: str, now: int) -> bool:
        """Mark it used (rotated away); False if it was used already."""
        ...

    def add_grant_token(self, grant_id: str, token_id: str) -> None: ...

    def grant_token_ids(self, grant_id: str) -> list[str]: ...

    def grant_token_revoked(self, grant_id: str) -> bool:
        """Whether any access token of the grant was revoked (by the person, say)."""
        ...


class SigningKeyRepository(Protocol):
    def newest(self) -> StoredSigningKey | None: ...

    def get(self, kid: str) -> StoredSigningKey | None: ...

    def add(self, key: StoredSigningKey) -> bool:
        """Add the key; False if its generation exists already (another node made it)."""
        ...

    def all(self) -> list[StoredSigningKey]:
        """Every key, newest generation first."""
        ...

    def retire(self, generation: int, now: int) -> None: ...

    def prune(self, retired_before: int) -> None: ...


class TeamPolicyRepository(Protocol):
    def get(self, team_id: str) -> Policy | None:
        """The team's own lifecycle policy; None if it has none."""
        ...

    def put(self, team_id: str, policy: Policy, now: int) -> None: ...

    def clear(self, team_id: str) -> None: ...


class PermissionCatalogue(Protocol):
    """The instance's own permission names (tokend's built-in ones are not stored)."""

    def add(self, permission: CataloguedPermission) -> bool:
        """False if the name is catalogued already."""
        ...

    def list(self) -> list[CataloguedPermission]: ...

    def known(self, names: frozenset[str]) -> frozenset[str]:
        """Which of ``names`` are catalogued."""
        ...

    def remove(self, name: str) -> bool: ...


class StoredWebhook(NamedTuple):
    secret: bytes  # the whsec_… text, sealed when ``sealed``
    sealed: bool


class ClaimedDelivery(NamedTuple):
    delivery: Delivery
    url: str
    secret: StoredWebhook
    webhook_disabled: bool


class OutboxDepth(NamedTuple):
    pending: int
    oldest_age_ms: int


class WebhookRepository(Protocol):
    def add(self, webhook: Webhook, secret: bytes, sealed: bool) -> None: ...

    def get(self, webhook_id: str) -> Webhook | None: ...

    def list_for(self, user_id: str, team_id: str | None) -> list[Webhook]:
        """The team's webhooks, given one; else every webhook the user made."""
        ...

    def receiving(self, user_id: str, team_id: str | None) -> list[Webhook]:
        """The enabled webhooks that receive the events of a token of this owner."""
        ...

    def remove(self, webhook_id: str) -> bool: ...

    def newest_created_at(self, user_id: str) -> int | None:
        """When the user last made a webhook; locks the user's row until commit."""
        ...

    def add_deliveries(self, deliveries: Sequence[Delivery]) -> None: ...

    def deliveries_of(self, webhook_id: str, *, limit: int) -> list[Delivery]: ...

    def claim_due(self, now: int, lease_until: int, limit: int) -> list[ClaimedDelivery]: ...

    def record_attempt(
        self,
        delivery_id: str,
        lease_until: int,
        attempt: Attempt,
        *,
        status: DeliveryStatus,
        next_attempt_at: int,
    ) -> bool: ...

    def mark_succeeded(self, webhook_id: str) -> None: ...

    def mark_failing(self, webhook_id: str, now: int) -> int | None: ...

    def disable(self, webhook_id: str, now: int) -> bool:
        """Disable it and fail its pending deliveries; False if it was disabled already."""
        ...

    def enable(self, webhook_id: str) -> bool:
        """Enable a disabled one, no longer failing; False if it was not disabled."""
        ...

    def fail_pending_of_disabled(self, delivery_id: str) -> None: ...

    def depth(self, now: int) -> OutboxDepth: ...


class ExpiryNotices(Protocol):
    """The expiry notices given, one per (token, threshold); threshold 0 is expired."""

    def due(
        self, now: int, thresholds_ms: tuple[int, ...], *, expired_since: int, limit: int
    ) -> list[str]:
        """Ids of live tokens (not revoked, expiring after ``expired_since``) that have
        crossed one of ``thresholds_ms`` (``expires_at - now <= threshold``) without its
        notice, soonest expiry first."""
        ...

    def add(self, token_id: str, threshold_ms: int, now: int) -> bool:
        """Mark the notice given; False if it was given already (by another node)."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without ``commit()`` rolls it back."""

    tokens: TokenRepository
    accounts: AccountRepository
    audit: AuditLog
    sessions: SessionRepository
    invites: InviteRepository
    devices: DeviceRepository
    sign_in_failures: SignInFailures
    user_identities: UserIdentityRepository
    upstream_sign_ins: UpstreamSignInRepository
    integrations: IntegrationRepository
    oauth: OAuthRepository
    signing_keys: SigningKeyRepository
    team_policies: TeamPolicyRepository
    permissions: PermissionCatalogue
    webhooks: WebhookRepository
    expiry_notices: ExpiryNotices

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, write: bool = False, one_read: bool = False) -> UnitOfWork:
        """A transaction; ``one_read``: the block runs a single query, so the storage may
        skip the transaction altogether."""
        ...


class RevocationFeed(Protocol):
    """Tells this process about revocations made by any process sharing the database."""

    def start(
        self,
        on_revoked: Callable[[str], None],
        on_gap: Callable[[], None],
        on_heard: Callable[[int], None] = ...,
    ) -> None:
        """Call ``on_revoked(token_id)`` for each revocation from now on, ``on_gap()``
        whenever some may have been missed (a lost connection), and ``on_heard(t_ns)``
        each time it has proven that every revocation committed before wall-clock time
        ``t_ns`` was delivered; from a background thread."""
        ...

    def close(self) -> None: ...


class IdentityProvider(Protocol):
    """The upstream OpenID Connect provider, over the network. Raises
    `ProviderUnavailable` when it cannot be reached, `ProviderRejected` when its
    answer is refused or does not verify."""

    issuer: str

    def authorization_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        """Where to send the browser: the authorization endpoint, with PKCE (S256)."""
        ...

    def verified_claims(self, *, code: str, code_verifier: str, nonce: str) -> VerifiedClaims:
        """Trade the code for tokens; the id_token's claims once its signature, iss,
        aud, exp and nonce are verified."""
        ...


class FailureCounter(Protocol):
    """Failed authentications per client address, in fixed windows: an address's window
    opens at its first failure and lasts ``window_ms``."""

    def add(self, address: str, now: int, window_ms: int) -> FailureCount:
        """Count one failure of ``address`` at ``now``; may block on the network."""
        ...

    def close(self) -> None: ...
