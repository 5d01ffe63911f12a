"""Every ``TOKEND_*`` setting, read from the environment (or a ``.env`` file)."""

import ipaddress
from email.utils import parseaddr
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from tokend.domain.durations import parse_duration, short
from tokend.domain.errors import ValidationFailed
from tokend.domain.expiry import normalized
from tokend.domain.policy import Policy, PolicyRules
from tokend.domain.sealing import MIN_SECRET_LENGTH
from tokend.domain.secret import DEFAULT_PREFIX, SecretFormat
from tokend.domain.upstream import UpstreamSettingsError, valid_issuer
from tokend.domain.webhooks import parse_schedule
from tokend.mail.smtp import SmtpServer, SmtpUrlError


def _duration_text(value: object, example: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a bare number is seconds, as in the environment
    if not isinstance(value, str):
        raise ValueError(f"must be {example}")
    return value


def _ms(value: object) -> int:
    """A duration setting ("90d", "12h", "15m", "30s", or bare seconds) in ms."""
    try:
        return parse_duration(_duration_text(value, "a duration such as 90d, 12h, 15m or 30s"))
    except ValidationFailed as exc:
        raise ValueError(str(exc)) from None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOKEND_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./tokend.db",
        description="SQLAlchemy URL: sqlite:///PATH or postgresql://USER@HOST/DB.",
    )
    database_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="PostgreSQL: how long one use of a connection (connecting, a request's "
        "transaction, a probe) may take before the request is answered 503.",
    )
    pepper: SecretStr | None = Field(
        default=None,
        description="HMAC key for the digests at rest. Changing it invalidates every token.",
    )
    token_prefix: str = Field(default=DEFAULT_PREFIX, description="Prefix of new secrets.")
    active_at_resolution_s: int = Field(
        default=60, ge=1, description="activeAt is written at most once per token per this."
    )
    cache_size: int = Field(
        default=50_000,
        ge=0,
        description="Tokens each process keeps verified in memory (0: no cache).",
    )
    cache_ttl_s: float = Field(
        default=300.0,
        gt=0,
        description="A cached token is re-read after this; revocations act at once anyway.",
    )
    active_at_flush_s: float = Field(
        default=1.0, gt=0, description="How often pending activeAt updates are written."
    )
    secret_scanning_keys: Path | None = Field(
        default=None,
        description="GitHub's secret-scanning public keys (their JSON document), for "
        "POST /v1/secret-scanning/github.",
    )
    host: str = Field(default="127.0.0.1", description="Address `tokend serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `tokend serve` uses.")
    workers: int = Field(default=1, ge=1, le=64, description="Worker processes of serve.")
    max_header_bytes: int = Field(
        default=8192,
        ge=1024,
        le=1 << 20,
        description="Request target plus header names and values, in bytes; past it 431.",
    )
    header_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="A connection must send a whole request head within this of opening, "
        "or of its previous response (the keep-alive timeout too).",
    )
    max_connections: int = Field(
        default=4096,
        ge=1,
        description="Open connections per worker; past it the oldest still waiting for "
        "a request head are closed.",
    )
    public_url: str | None = Field(
        default=None,
        description="The address people and clients use (https://tokens.example.com); "
        "links tokend prints or sends are built on it. Default: http://HOST:PORT.",
    )
    session_idle_s: int = Field(
        default=12 * 3600, ge=1, description="A browser session unused this long ends."
    )
    session_max_age_s: int = Field(
        default=7 * 24 * 3600, ge=1, description="A browser session ends this long after sign-in."
    )
    device_codes_per_address: int = Field(
        default=20,
        ge=0,
        description="Device logins (RFC 8628) waiting for approval that one client address "
        "may hold at once (0: no cap).",
    )
    signing_key_secret: SecretStr | None = Field(
        default=None,
        description="32 or more random characters: seals the id_token signing keys in the "
        "database. Sign in with tokend (OpenID Connect) is off without it.",
    )
    integration_access_ttl_s: int = Field(
        default=3600,
        ge=1,
        le=366 * 24 * 3600,
        description="Lifetime of the access tokens (and id_tokens) integrations receive.",
    )
    integration_refresh_ttl_s: int = Field(
        default=30 * 24 * 3600,
        ge=1,
        le=366 * 24 * 3600,
        description="Lifetime of an integration's refresh token (offline_access); each "
        "refresh gives a new one.",
    )
    # Lifecycle policy (SPEC §11), written as durations ("90d", "12h", "3s"); held in ms.
    max_token_lifetime: int | None = Field(
        default=None,
        description="The longest a new token may live (90d): create refuses a later "
        "expiresAt and gives tokens without one this lifetime; rotation, device logins and "
        "OAuth are cut to it. Unset: no limit.",
    )
    inactivity_expiry: int | None = Field(
        default=None,
        description="A token unused (activeAt) for this long (30d) stops authenticating. "
        "Unset: never.",
    )
    require_expiry: bool = Field(
        default=False, description="Every new token must have an expiresAt."
    )
    # Webhooks (SPEC §12).
    webhook_allow_private: bool = Field(
        default=False,
        description="Let webhooks call private, loopback and link-local addresses, and "
        "plain http:// URLs (development and tests; cloud metadata addresses stay refused).",
    )
    # Durations are held in ms. The environment's are parsed by the validators below,
    # as are defaults (pydantic-settings validates them): a bare number is seconds.
    webhook_retry_schedule: Annotated[tuple[int, ...], NoDecode] = Field(
        default=parse_schedule("5s,5m,30m,2h,5h,10h"),
        description="Delays between a webhook delivery's attempts; a schedule ending "
        "sooner gets one last attempt when the delivery is 24 h old, then it is failed.",
    )
    webhook_disable_after: int = Field(
        default=3 * 24 * 3600,  # 3d
        description="A webhook whose deliveries have all failed for this long is disabled.",
    )
    policy_applies_to_services: bool = Field(
        default=False,
        description="Service accounts' tokens obey the lifecycle policy too (else exempt).",
    )
    log_level: str = Field(default="info", description="debug, info, warning or error.")
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text for people; json: every line `tokend serve` writes is one JSON "
        "object, with the request id of the request it belongs to.",
    )
    rate_limit_failures: int = Field(
        default=30,
        ge=0,
        description="Failed authentications allowed per client address per window (0: no limit).",
    )
    rate_limit_window_s: int = Field(
        default=60, ge=1, description="The window of the failed-authentication limit."
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://HOST:PORT/DB: failed authentications counted for every node.",
    )
    redis_prefix: str = Field(default="tokend:", description="Prefix of tokend's Redis keys.")
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated IPs or CIDR networks whose X-Forwarded-For is believed.",
    )
    # Sign-in through an upstream OpenID Connect provider (SPEC §10): all three of
    # issuer, client id and secret, or none.
    oidc_issuer: str | None = Field(
        default=None,
        description="The identity provider's issuer URL (https://KEYCLOAK/realms/REALM); "
        'adds a "Sign in with ..." button to /login.',
    )
    oidc_client_id: str | None = Field(
        default=None, description="tokend's client id at the identity provider."
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="tokend's client secret at the identity provider."
    )
    oidc_name: str | None = Field(
        default=None,
        description="The button's label. Default: \"Sign in with\" and the issuer's host.",
    )
    oidc_scopes: str = Field(
        default="openid email profile", description="Scopes asked of the provider."
    )
    oidc_create_users: bool = Field(
        default=False,
        description="Create a tokend account at a person's first sign-in through the provider.",
    )
    oidc_email_domains: str = Field(
        default="",
        description="Comma-separated email domains; when set, accounts are created only for "
        "people whose verified email is in one of them.",
    )
    # Expiry warnings (SPEC §12).
    expiry_warnings: str = Field(
        default="30d,7d,1d",
        description="Comma-separated durations: when a token has this little life left, "
        "one token.expiring event (and email) per threshold. Empty: no warnings "
        "(token.expired still).",
    )
    expiry_scan_interval: int = Field(
        default=60,
        description="How often each serving process looks for tokens due a warning (1m).",
    )
    smtp_url: SecretStr | None = Field(
        default=None,
        description="smtp://USER:PASSWORD@HOST:PORT (STARTTLS when offered) or smtps://... "
        "(TLS): expiry warnings are emailed through it. Unset: no email.",
    )
    smtp_from: str | None = Field(
        default=None,
        description="The sender of tokend's email (tokend <tokend@example.com>); required "
        "with TOKEND_SMTP_URL.",
    )

    @field_validator("token_prefix")
    @classmethod
    def _valid_prefix(cls, value: str) -> str:
        SecretFormat(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: str) -> str:
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            raise ValueError(
                "not a database URL; use sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
            ) from None
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {backend!r}; use sqlite or postgresql")
        return value

    @field_validator("public_url")
    @classmethod
    def _valid_public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        scheme, _, rest = value.partition("://")
        if scheme not in ("http", "https") or not rest or any(c in rest for c in "?#"):
            raise ValueError("use http(s)://HOST[:PORT][/PATH], with no query or fragment")
        return value.rstrip("/")

    @field_validator("signing_key_secret")
    @classmethod
    def _valid_signing_key_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value().encode()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"use {MIN_SECRET_LENGTH} or more random characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return value

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _schedule(cls, value: object) -> tuple[int, ...]:
        if isinstance(value, tuple):
            return value
        text = _duration_text(value, "a comma-separated list of durations such as 5s,5m,2h")
        try:
            return parse_schedule(text)
        except ValidationFailed as exc:
            raise ValueError(str(exc)) from None

    @field_validator("max_token_lifetime", "inactivity_expiry", mode="before")
    @classmethod
    def _optional_duration(cls, value: object) -> int | None:
        if value is None or value == "":
            return None  # TOKEND_MAX_TOKEN_LIFETIME= (empty) means no limit
        return _ms(value)

    @field_validator("webhook_disable_after", "expiry_scan_interval", mode="before")
    @classmethod
    def _duration(cls, value: object) -> int:
        return _ms(value)

    @field_validator("expiry_warnings")
    @classmethod
    def _valid_warnings(cls, value: str) -> str:
        try:
            thresholds = normalized(
                [parse_duration(part) for part in value.split(",") if part.strip()]
            )
        except ValidationFailed as exc:
            raise ValueError(str(exc)) from None
        return ",".join(short(ms) for ms in thresholds)

    @field_validator("smtp_url")
    @classmethod
    def _valid_smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        try:
            SmtpServer.from_url(value.get_secret_value())
        except SmtpUrlError as exc:
            # Our words only: the URL holds the password.
            raise ValueError(str(exc)) from None
        return value

    @field_validator("smtp_from")
    @classmethod
    def _valid_sender(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        address = parseaddr(value.strip())[1]
        local, _, domain = address.rpartition("@")
        if not local or not domain or any(c in value for c in "\r\n"):
            raise ValueError(
                "not an email address; use tokend@example.com or 'tokend <tokend@example.com>'"
            )
        return value.strip()

    @model_validator(mode="after")
    def _smtp_needs_sender(self) -> "Settings":
        if self.smtp_url is not None and self.smtp_from is None:
            raise ValueError("TOKEND_SMTP_URL is set: set TOKEND_SMTP_FROM, the sender's address")
        return self

    @property
    def expiry_thresholds_ms(self) -> tuple[int, ...]:
        """The warning thresholds, largest first."""
        return normalized(
            [parse_duration(part) for part in self.expiry_warnings.split(",") if part]
        )

    @property
    def smtp_server(self) -> SmtpServer | None:
        return SmtpServer.from_url(self.smtp_url.get_secret_value()) if self.smtp_url else None

    @model_validator(mode="after")
    def _inactivity_outlasts_resolution(self) -> "Settings":
        # activeAt moves at most once per resolution: a shorter limit would expire
        # tokens that are in use.
        floor = 2 * self.active_at_resolution_s * 1000
        if self.inactivity_expiry is not None and self.inactivity_expiry < floor:
            raise ValueError(
                f"TOKEND_INACTIVITY_EXPIRY ({short(self.inactivity_expiry)}) must be at least "
                f"twice TOKEND_ACTIVE_AT_RESOLUTION_S ({short(floor)} here): activeAt moves "
                "only once per that many seconds"
            )
        return self

    @property
    def policy_rules(self) -> PolicyRules:
        """The instance's lifecycle policy and whom it binds."""
        return PolicyRules(
            instance=Policy(
                max_lifetime_ms=self.max_token_lifetime,
                inactivity_ms=self.inactivity_expiry,
                require_expiry=self.require_expiry,
            ),
            applies_to_services=self.policy_applies_to_services,
        )

    @field_validator("log_level")
    @classmethod
    def _valid_level(cls, value: str) -> str:
        value = value.lower()
        if value not in ("critical", "error", "warning", "info", "debug"):
            raise ValueError("must be one of debug, info, warning, error, critical")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("redis_url")
    @classmethod
    def _valid_redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None  # TOKEND_REDIS_URL= (empty) means no Redis
        if value.partition("://")[0] not in ("redis", "rediss", "unix"):
            raise ValueError("not a Redis URL; use redis://HOST:PORT/DB")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxies(cls, value: str) -> str:
        networks = []
        for entry in filter(None, (part.strip() for part in value.split(","))):
            try:
                networks.append(str(ipaddress.ip_network(entry, strict=False)))
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
        # Normalised: uvicorn would take a malformed entry as a literal host name,
        # trusting nobody without a word.
        return ",".join(networks)

    @field_validator("oidc_issuer", "oidc_client_id", "oidc_name")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("oidc_issuer")
    @classmethod
    def _valid_issuer(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return valid_issuer(value)
        except UpstreamSettingsError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("oidc_scopes")
    @classmethod
    def _valid_scopes(cls, value: str) -> str:
        scopes = value.split()
        if "openid" not in scopes:
            raise ValueError("must include openid")
        return " ".join(scopes)

    @field_validator("oidc_email_domains")
    @classmethod
    def _valid_domains(cls, value: str) -> str:
        domains = [part.strip().lower().lstrip("@") for part in value.split(",")]
        for domain in filter(None, domains):
            if "." not in domain or any(c in domain for c in "@/ :"):
                raise ValueError(f"{domain!r} is not an email domain (example.com)")
        return ",".join(filter(None, domains))

    @model_validator(mode="after")
    def _oidc_all_or_none(self) -> "Settings":
        secret = self.oidc_client_secret.get_secret_value() if self.oidc_client_secret else ""
        given = [bool(self.oidc_issuer), bool(self.oidc_client_id), bool(secret)]
        if any(given) and not all(given):
            raise ValueError(
                "set all of TOKEND_OIDC_ISSUER, TOKEND_OIDC_CLIENT_ID and "
                "TOKEND_OIDC_CLIENT_SECRET, or none of them"
            )
        return self

    @property
    def oidc_enabled(self) -> bool:
        return self.oidc_issuer is not None

    @property
    def oidc_email_domain_list(self) -> list[str]:
        return self.oidc_email_domains.split(",") if self.oidc_email_domains else []

    @property
    def base_url(self) -> str:
        """`public_url`, or the address `tokend serve` listens on."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def trusted_proxy_list(self) -> list[str]:
        return self.trusted_proxies.split(",") if self.trusted_proxies else []

    @cached_property
    def secret_format(self) -> SecretFormat:
        return SecretFormat(self.token_prefix)

    @property
    def pepper_bytes(self) -> bytes | None:
        return self.pepper.get_secret_value().encode() if self.pepper else None
