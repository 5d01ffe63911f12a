"""Wires settings, storage and services together; the HTTP app and the CLI start here."""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from tokend.domain.audit import Requester
from tokend.domain.digest import Digester
from tokend.domain.expiry import ExpiryNotice, emailable
from tokend.domain.sealing import Sealer
from tokend.domain.upstream import button_label
from tokend.mail.expiry import expiry_email
from tokend.service.accounts import AccountService
from tokend.service.activity import ActivityRecorder
from tokend.service.admin import AdminService
from tokend.service.audit import AuditService
from tokend.service.authentication import Authenticator
from tokend.service.cache import VerificationCache
from tokend.service.device import DeviceService
from tokend.service.expiry import ExpiryScanner
from tokend.service.integrations import IntegrationService
from tokend.service.introspection import IntrospectionService
from tokend.service.leaks import LeakService
from tokend.service.passwords import PasswordHasher
from tokend.service.permissions import PermissionService
from tokend.service.policies import PolicyService
from tokend.service.ports import FailureCounter, RevocationFeed
from tokend.service.provider import Provider, ProviderPolicy
from tokend.service.rate_limit import RateLimiter
from tokend.service.sessions import SessionPolicy, SessionService
from tokend.service.signing import SigningKeys
from tokend.service.tokens import TokenService
from tokend.service.upstream import UPSTREAM_CALLBACK, AccountPolicy, UpstreamSignInService
from tokend.service.webhook_sender import WebhookSender
from tokend.service.webhooks import SecretKeeper, WebhookService
from tokend.settings import Settings
from tokend.storage.engine import make_engine
from tokend.storage.failure_counters import InProcessFailureCounter, RedisFailureCounter
from tokend.storage.revocation_feed import revocation_feed
from tokend.storage.unit_of_work import SqlUnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    engine: Engine
    authenticator: Authenticator
    tokens: TokenService
    admin: AdminService
    policies: PolicyService
    audit: AuditService
    introspection: IntrospectionService
    leaks: LeakService
    revocations: RevocationFeed
    rate_limiter: RateLimiter
    sessions: SessionService
    accounts: AccountService
    devices: DeviceService
    integrations: IntegrationService
    signing_keys: SigningKeys
    provider: Provider
    permissions: PermissionService
    webhooks: WebhookService
    webhook_sender: WebhookSender
    expiry: ExpiryScanner
    # Sign-in through the identity provider; None without TOKEND_OIDC_ISSUER.
    upstream: UpstreamSignInService | None = None

    def start(
        self,
        *,
        signs_people_in: bool = True,
        scans_expiry: bool = True,
        sends_webhooks: bool = True,
    ) -> None:
        """Start what a serving process runs in the background: the revocation feed
        (before the first request), the activeAt writer, the expiry scan and the
        webhook sender. ``signs_people_in``: make the dummy password hash now (a tenth
        of a second), so that the first unknown name is not slower than a wrong
        password; a process that only verifies tokens (`tokend.verify`) has no use for
        it, nor for ``scans_expiry`` and ``sends_webhooks`` (`tokend serve`'s work)."""
        cache = self.authenticator.cache
        cache.follow_feed()
        self.revocations.start(
            on_revoked=cache.invalidate, on_gap=cache.clear, on_heard=cache.heard
        )
        self.authenticator.activity.start()
        if sends_webhooks:
            self.webhook_sender.start()
        if signs_people_in:
            self.sessions.passwords.warm()
        if scans_expiry:
            self.expiry.start()

    def close(self) -> None:
        """Write pending activeAt updates, stop the background threads, close the pools."""
        try:
            self.expiry.close()
            self.authenticator.activity.close()
            self.webhook_sender.close()
            self.revocations.close()
        finally:
            self.rate_limiter.close()
            self.engine.dispose()


def bootstrap(settings: Settings | None = None) -> Services:
    settings = settings or Settings()
    engine = make_engine(settings.database_url, timeout_s=settings.database_timeout_s)
    uow = SqlUnitOfWorkFactory(engine)
    digester = Digester(settings.pepper_bytes)
    cache = VerificationCache(settings.cache_size, ttl_s=settings.cache_ttl_s)
    activity = ActivityRecorder(
        uow,
        resolution_ms=settings.active_at_resolution_s * 1000,
        interval_s=settings.active_at_flush_s,
    )
    tokens = TokenService(
        uow=uow,
        secret_format=settings.secret_format,
        digester=digester,
        revoked=cache.invalidate,
        policy=settings.policy_rules,
    )
    authenticator = Authenticator(
        uow=uow,
        secret_format=settings.secret_format,
        digester=digester,
        cache=cache,
        activity=activity,
        policy=settings.policy_rules,
    )
    audit = AuditService(uow=uow)

    def record_block(address: str) -> None:
        audit.record_rate_limited(Requester(ip=address))

    rate_limiter = RateLimiter(
        _failure_counter(settings),
        limit=settings.rate_limit_failures,
        window_s=settings.rate_limit_window_s,
        on_block=record_block,
    )
    passwords = PasswordHasher()
    sessions = SessionService(
        uow=uow,
        digester=digester,
        passwords=passwords,
        policy=SessionPolicy(
            idle_ms=settings.session_idle_s * 1000,
            absolute_ms=settings.session_max_age_s * 1000,
        ),
        address_limiter=rate_limiter,
    )
    integrations = IntegrationService(uow=uow, digester=digester, tokens=tokens)
    # A retired key stays published as long as an id_token it signed may live, and a
    # minute more for clocks that differ.
    signing_keys = SigningKeys(
        uow=uow,
        sealer=_sealer(settings),
        keep_ms=(settings.integration_access_ttl_s + 60) * 1000,
    )
    provider = Provider(
        uow=uow,
        digester=digester,
        integrations=integrations,
        keys=signing_keys,
        tokens=tokens,
        policy=ProviderPolicy(
            issuer=settings.base_url,
            access_token_ttl_s=settings.integration_access_ttl_s,
            refresh_token_ttl_s=settings.integration_refresh_ttl_s,
            id_token_ttl_s=settings.integration_access_ttl_s,
        ),
    )
    webhook_secrets = SecretKeeper(_sealer(settings))
    return Services(
        settings=settings,
        engine=engine,
        authenticator=authenticator,
        tokens=tokens,
        admin=AdminService(uow=uow, tokens=tokens),
        policies=PolicyService(
            uow=uow,
            rules=settings.policy_rules,
            min_inactivity_ms=2 * settings.active_at_resolution_s * 1000,
        ),
        audit=audit,
        introspection=IntrospectionService(authenticator),
        leaks=LeakService(
            uow=uow,
            secret_format=settings.secret_format,
            digester=digester,
            revoked=cache.invalidate,
        ),
        revocations=revocation_feed(engine, settings.database_timeout_s),
        rate_limiter=rate_limiter,
        sessions=sessions,
        accounts=AccountService(uow=uow, digester=digester, passwords=passwords, sessions=sessions),
        devices=DeviceService(
            uow=uow,
            digester=digester,
            tokens=tokens,
            address_limiter=rate_limiter,
            max_pending_per_address=settings.device_codes_per_address,
        ),
        integrations=integrations,
        signing_keys=signing_keys,
        provider=provider,
        permissions=PermissionService(uow=uow),
        webhooks=WebhookService(
            uow=uow, secrets=webhook_secrets, allow_private=settings.webhook_allow_private
        ),
        webhook_sender=WebhookSender(
            uow,
            webhook_secrets,
            retry_delays_ms=settings.webhook_retry_schedule,
            disable_after_ms=settings.webhook_disable_after,
            allow_private=settings.webhook_allow_private,
        ),
        expiry=ExpiryScanner(
            uow=uow,
            thresholds_ms=settings.expiry_thresholds_ms,
            interval_s=settings.expiry_scan_interval / 1000,
            notify=_expiry_mailer(settings),
        ),
        upstream=upstream_sign_in(settings, uow, digester, sessions),
    )


def upstream_sign_in(
    settings: Settings, uow: SqlUnitOfWorkFactory, digester: Digester, sessions: SessionService
) -> UpstreamSignInService | None:
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
        return None
    # Imported only when configured: Authlib and joserfc stay out of the CLI's start-up.
    from tokend.upstream.provider import OidcProvider

    provider = OidcProvider(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        redirect_uri=f"{settings.base_url}{UPSTREAM_CALLBACK}",
        scopes=settings.oidc_scopes,
    )
    return UpstreamSignInService(
        uow=uow,
        digester=digester,
        provider=provider,
        sessions=sessions,
        policy=AccountPolicy(
            create_users=settings.oidc_create_users,
            email_domains=tuple(settings.oidc_email_domain_list),
        ),
        label=button_label(settings.oidc_issuer, settings.oidc_name),
    )


def _expiry_mailer(settings: Settings) -> Callable[[ExpiryNotice], None] | None:
    """Emails each expiry notice to the token's user, when TOKEND_SMTP_URL is set."""
    server, sender = settings.smtp_server, settings.smtp_from
    if server is None or sender is None:
        return None

    def send(notice: ExpiryNotice) -> None:
        # Placeholder addresses (USERNAME@localhost: every service account, and people
        # made without an address) receive no mail.
        if emailable(notice.user.email):
            server.send(expiry_email(notice, sender=sender, base_url=settings.base_url))

    return send


def _sealer(settings: Settings) -> Sealer | None:
    secret = settings.signing_key_secret
    return Sealer(secret.get_secret_value().encode()) if secret else None


def _failure_counter(settings: Settings) -> FailureCounter:
    if settings.redis_url is None:
        return InProcessFailureCounter()
    return RedisFailureCounter.from_url(settings.redis_url, prefix=settings.redis_prefix)
