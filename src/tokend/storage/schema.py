"""The tables, shared by the repositories and the migrations' autogenerate check."""

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("email", String(320), nullable=False),
    Column("name", String(256)),
    Column("created_at", BigInteger, nullable=False),
    # "user" or "service" (an account whose tokens only introspect others' tokens).
    Column("kind", String(8), nullable=False, server_default="user"),
    # argon2id, in its PHC string form; None: the user cannot sign in with a password.
    Column("password_hash", String(256)),
)

teams = Table(
    "teams",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(256), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("team_id", String(40), ForeignKey("teams.id"), primary_key=True),
    Column("user_id", String(40), ForeignKey("users.id"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("digest", LargeBinary(32), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("suffix", String(8), nullable=False),
    Column("origin", String(32), nullable=False),
    Column("scope_type", String(8), nullable=False),
    Column("team_id", String(40), ForeignKey("teams.id")),
    Column("project_id", String(256)),
    Column("created_at", BigInteger, nullable=False),
    Column("active_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger),
    Column("revoked_at", BigInteger),
    Column("leaked_at", BigInteger),
    Column("leaked_url", Text),
    # A JSON list of permission names, sorted; NULL: unrestricted (every token made
    # before permissions existed, and every Vercel-style token).
    Column("permissions", Text),
    # createdAt is the paging cursor; unique per user so that a page boundary
    # never falls between two tokens of the same millisecond.
    Index("ix_tokens_user_id_created_at", "user_id", "created_at", unique=True),
    # The expiry scan reads the tokens near their end, every minute, on every node.
    Index("ix_tokens_expires_at", "expires_at"),
)

# Every revocation, in commit order, for a while: SQLite processes poll it to drop
# revoked tokens from their caches (PostgreSQL nodes are told by NOTIFY as well).
# AUTOINCREMENT: a seq is never reused, even after pruning, so a poller cannot miss one.
token_revocations = Table(
    "token_revocations",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("token_id", String(40), nullable=False),
    Column("revoked_at", BigInteger, nullable=False),
    sqlite_autoincrement=True,
)

# The audit trail. ``token`` is a JSON snapshot of the token's metadata after the
# event (no digest, no secret). Events made by no user (a rate-limit block of an
# unknown token) have no user_id. createdAt is the paging cursor, so it is kept
# unique per user, like the tokens'.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("type", String(32), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("user_id", String(40), ForeignKey("users.id")),
    Column("team_id", String(40), ForeignKey("teams.id")),
    Column("token_id", String(40)),
    Column("token", Text),
    Column("actor_token_id", String(40)),
    Column("ip", String(64)),
    Column("user_agent", String(512)),
    Index("ix_audit_events_user_id_created_at", "user_id", "created_at", unique=True),
)

# Browser sessions: the cookie's secret is never stored, only its digest.
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("digest", LargeBinary(32), nullable=False, unique=True),
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
    Column("seen_at", BigInteger, nullable=False),
    Column("ip", String(64)),
    Column("user_agent", String(512)),
)

invites = Table(
    "invites",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("digest", LargeBinary(32), nullable=False, unique=True),
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),
)

# RFC 8628 device authorizations; both codes kept only as digests.
device_authorizations = Table(
    "device_authorizations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("device_code_digest", LargeBinary(32), nullable=False, unique=True),
    Column("user_code_digest", LargeBinary(32), nullable=False, unique=True),
    Column("client_id", String(100), nullable=False),
    Column("scope", String(200)),
    Column("name", String(100), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
    Column("interval_s", Integer, nullable=False),
    Column("polled_at", BigInteger),
    Column("status", String(16), nullable=False),
    Column("user_id", String(40), ForeignKey("users.id")),
    Column("ip", String(64)),
)

# Failed sign-ins per account (or per unknown name) in fixed windows, shared by nodes.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("key", String(80), primary_key=True),
    Column("window_ends", BigInteger, nullable=False),
    Column("failures", Integer, nullable=False),
)

# "Sign in with tokend" (OpenID Connect): the apps people sign in to, with their
# client secrets kept only as digests and their redirect URIs as a JSON list.
integrations = Table(
    "integrations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("secret_digest", LargeBinary(32), nullable=False),
    Column("redirect_uris", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# What a person allowed an integration at one consent, from the code's exchange on:
# every access and refresh token issued from it belongs to it, so a replayed code or
# refresh token revokes the whole of it.
oauth_grants = Table(
    "oauth_grants",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("integration_id", String(40), ForeignKey("integrations.id"), nullable=False, index=True),
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False, index=True),
    Column("scope", String(200), nullable=False),
    Column("auth_time", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

# Authorization codes (60 s, single use), as digests.
oauth_codes = Table(
    "oauth_codes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("digest", LargeBinary(32), nullable=False, unique=True),
    Column("integration_id", String(40), ForeignKey("integrations.id"), nullable=False),
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    # Whether the authorization request named the redirect URI, so the token request must.
    Column("redirect_uri_sent", Integer, nullable=False),
    Column("scope", String(200), nullable=False),
    Column("nonce", String(256)),
    Column("code_challenge", String(128)),
    Column("auth_time", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
    Column("used_at", BigInteger),
    Column("grant_id", String(40)),
)

oauth_refresh_tokens = Table(
    "oauth_refresh_tokens",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("digest", LargeBinary(32), nullable=False, unique=True),
    Column("grant_id", String(40), ForeignKey("oauth_grants.id"), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),
)

# The tokend tokens (access tokens) issued under each grant.
oauth_grant_tokens = Table(
    "oauth_grant_tokens",
    metadata,
    Column("token_id", String(40), primary_key=True),
    Column("grant_id", String(40), ForeignKey("oauth_grants.id"), nullable=False, index=True),
)

# id_token signing keys. The newest generation signs; older ones stay published in
# the JWKS while tokens they signed may live. The private half is encrypted with a key
# from the environment (TOKEND_SIGNING_KEY_SECRET).
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("generation", Integer, primary_key=True, autoincrement=False),
    Column("kid", String(64), nullable=False, unique=True),
    Column("alg", String(16), nullable=False),
    Column("public_jwk", Text, nullable=False),
    Column("private_key", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("retired_at", BigInteger),
)

# People who sign in through an upstream OpenID Connect provider, by (issuer, sub).
user_identities = Table(
    "user_identities",
    metadata,
    Column("issuer", String(255), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
)

# An upstream sign-in under way: the state, PKCE verifier and nonce of one browser's
# trip to the identity provider (a few minutes at most), by the state's digest.
upstream_sign_ins = Table(
    "upstream_sign_ins",
    metadata,
    Column("state_digest", LargeBinary(32), primary_key=True),
    Column("code_verifier", String(128), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("next_path", String(2000), nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
    Column("ip", String(64)),
    Index("ix_upstream_sign_ins_ip_expires_at", "ip", "expires_at"),
)

# The instance's catalogue of permissions tokens may carry, beside tokend's own.
permissions = Table(
    "permissions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("description", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# A team's lifecycle policy; the stricter of it and the instance's settings applies.
team_policies = Table(
    "team_policies",
    metadata,
    Column("team_id", String(40), ForeignKey("teams.id"), primary_key=True),
    Column("max_lifetime_ms", BigInteger),
    Column("inactivity_ms", BigInteger),
    Column("require_expiry", Integer, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# Webhooks (SPEC §12): a user's, or a team's when made with a team token. The secret
# signs deliveries, so it is kept, sealed when TOKEND_SIGNING_KEY_SECRET is set.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False, index=True),
    Column("team_id", String(40), ForeignKey("teams.id"), index=True),
    Column("url", Text, nullable=False),
    Column("events", Text, nullable=False),  # a JSON list of event types
    Column("secret", LargeBinary, nullable=False),
    Column("secret_sealed", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("failing_since", BigInteger),
    Column("disabled_at", BigInteger),
)

# The outbox: one row per event and webhook, written in the event's own transaction,
# so no crash loses one. Its id is the webhook-id header of every attempt.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("webhook_id", String(40), ForeignKey("webhooks.id"), nullable=False, index=True),
    Column("event_type", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=False),
    # A sender's lease: no other sender takes the delivery before it ends.
    Column("claimed_until", BigInteger),
    Column("delivered_at", BigInteger),
    Column("last_status_code", Integer),
    Column("last_error", String(200)),
    Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "delivery_id",
        String(40),
        ForeignKey("webhook_deliveries.id"),
        nullable=False,
        index=True,
    ),
    Column("attempted_at", BigInteger, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("status_code", Integer),
    Column("error", String(200)),
)

# Expiry warnings sent, once per token and threshold (0: the token.expired notice),
# whatever restarts or nodes there are.
expiry_notices = Table(
    "expiry_notices",
    metadata,
    Column("token_id", String(40), primary_key=True),
    Column("threshold_ms", BigInteger, primary_key=True, autoincrement=False),
    Column("sent_at", BigInteger, nullable=False),
)
