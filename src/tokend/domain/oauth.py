"""The OAuth 2.0 / OpenID Connect grants of "Sign in with tokend": consent, codes,
refresh tokens, and the rules they follow (RFC 6749, RFC 7636, OpenID Connect Core).

A grant is what a person allowed an integration at one consent. Every access token
(a tokend token) and refresh token issued from it belongs to it: a replayed code or
refresh token is a sign that one of them was stolen, and revokes the whole grant.
"""

import hmac
import re
from dataclasses import dataclass

from authlib.oauth2.rfc7636 import create_s256_code_challenge

from tokend.domain import ids

OPENID = "openid"
OFFLINE_ACCESS = "offline_access"
SUPPORTED_SCOPES = (OPENID, "email", "profile", OFFLINE_ACCESS)
CODE_LIFETIME_MS = 60_000
NONCE_MAX_LENGTH = 256
STATE_MAX_LENGTH = 1000
# RFC 7636 §4.1 and §4.2: 43 to 128 unreserved characters; an S256 challenge is 43.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


class OAuthError(Exception):
    """An OAuth error answer: ``code`` is the RFC 6749 error code, the message its
    description, written for the client's developer and free of secrets."""

    code = "invalid_request"

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class InvalidRequest(OAuthError):
    code = "invalid_request"


class InvalidClient(OAuthError):
    code = "invalid_client"


class InvalidGrant(OAuthError):
    code = "invalid_grant"


class InvalidScope(OAuthError):
    code = "invalid_scope"


class UnauthorizedClient(OAuthError):
    code = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    code = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    code = "unsupported_response_type"


class AccessDenied(OAuthError):
    code = "access_denied"


class ConsentRequired(OAuthError):
    """prompt=none, but tokend asks for consent every time (OpenID Connect Core §3.1.2.6)."""

    code = "consent_required"


class LoginRequired(OAuthError):
    """prompt=none, and nobody is signed in (OpenID Connect Core §3.1.2.6)."""

    code = "login_required"


class RequestNotSupported(OAuthError):
    code = "request_not_supported"


def parse_scope(text: str | None) -> str:
    """The scopes asked for that tokend knows, in a fixed order, space-separated;
    unknown ones are left out (OpenID Connect Core §3.1.2.1). ``openid`` is required:
    every answer carries an id_token."""
    asked = set((text or "").split())
    if OPENID not in asked:
        raise InvalidScope("The scope must include openid (e.g. scope=openid email profile).")
    return " ".join(scope for scope in SUPPORTED_SCOPES if scope in asked)


def check_code_challenge(challenge: str | None, method: str | None) -> str | None:
    """The PKCE challenge to keep with the code, or None when the client sent none."""
    if challenge is None:
        if method is not None:
            raise InvalidRequest("code_challenge_method was sent without code_challenge.")
        return None
    if method != "S256":
        raise InvalidRequest("Only code_challenge_method=S256 is supported.")
    if not _CHALLENGE.fullmatch(challenge):
        raise InvalidRequest("code_challenge must be the 43-character S256 challenge.")
    return challenge


def verifier_matches(verifier: str, challenge: str) -> bool:
    if not _VERIFIER.fullmatch(verifier):
        return False
    expected = create_s256_code_challenge(verifier)
    return hmac.compare_digest(expected.encode(), challenge.encode())


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    id: str
    digest: bytes
    integration_id: str
    user_id: str
    redirect_uri: str
    redirect_uri_sent: bool
    scope: str
    nonce: str | None
    code_challenge: str | None
    auth_time: int  # when the person signed in (ms), for the id_token's auth_time
    created_at: int
    expires_at: int
    used_at: int | None = None
    grant_id: str | None = None

    def is_expired(self, now: int) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True, slots=True)
class Grant:
    id: str
    integration_id: str
    user_id: str
    scope: str
    auth_time: int
    created_at: int
    revoked_at: int | None = None

    @property
    def offline(self) -> bool:
        return OFFLINE_ACCESS in self.scope.split()


@dataclass(frozen=True, slots=True)
class RefreshToken:
    id: str
    digest: bytes
    grant_id: str
    created_at: int
    expires_at: int
    used_at: int | None = None


def new_code() -> str:
    return ids.random_base62(43)


def new_refresh_token() -> str:
    return "tkdrt_" + ids.random_base62(43)


def new_code_id() -> str:
    return "code_" + ids.random_base62(ids.ID_LENGTH)


def new_grant_id() -> str:
    return "grant_" + ids.random_base62(ids.ID_LENGTH)


def new_refresh_token_id() -> str:
    return "rt_" + ids.random_base62(ids.ID_LENGTH)
