"""Sign-in through an upstream OpenID Connect provider (Keycloak, Okta, Entra ID,
Google): the rules that need no network and no database.

A person is the pair (issuer, ``sub``): OpenID Connect promises ``sub`` never changes
and is never reused within an issuer, whereas an email or a username may be changed
at the provider, or given to someone else later. So they only name a new account.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tokend.domain.errors import TokendError
from tokend.domain.hosts import is_loopback

USERNAME_MAX_LENGTH = 48
# Room left for a "-N" suffix when the derived name is taken.
_USERNAME_BASE_LENGTH = 40
_NOT_IN_USERNAME = re.compile(r"[^a-z0-9._-]+")


class UpstreamSettingsError(ValueError):
    """A TOKEND_OIDC_* value that cannot work."""


class UpstreamSignInError(TokendError):
    """A sign-in through the provider that did not end in a session. The message is
    for the person at the browser, and holds no secret."""

    status = 400


class SignInStateInvalid(UpstreamSignInError):
    """The callback's state is unknown, used, expired, or not this browser's."""

    def __init__(self) -> None:
        super().__init__(
            "This sign-in link is not valid any more: it was used already, it is too old, "
            "or it was started in another browser. Sign in again."
        )


class ProviderUnavailable(UpstreamSignInError):
    """The provider could not be reached, or answered with something unusable."""

    status = 503

    def __init__(self) -> None:
        super().__init__(
            "The identity provider cannot be reached right now. Try again in a minute, "
            "or sign in with your password."
        )


class TooManySignIns(UpstreamSignInError):
    """An address has as many sign-ins under way at the provider as it may; one
    expires within ``retry_after_s``."""

    status = 429

    def __init__(self, *, retry_after_s: int) -> None:
        super().__init__(
            "Too many sign-ins through the identity provider are under way from this "
            f"address. Finish one, or try again in {retry_after_s} seconds."
        )
        self.retry_after_s = retry_after_s


class ProviderRejected(UpstreamSignInError):
    """The provider refused the code, or its id_token did not verify."""

    def __init__(self) -> None:
        super().__init__(
            "The identity provider's answer could not be verified, so you are not signed "
            "in. Sign in again."
        )


class NoLinkedAccount(UpstreamSignInError):
    """A verified person with no tokend account, who may not get one."""

    status = 403

    def __init__(self, subject: str, reason: str) -> None:
        super().__init__(
            f"You signed in at your identity provider, but {reason} Ask the person who "
            f"runs tokend for access, and give them your identifier: {subject}"
        )
        self.subject = subject
        self.reason = reason


@dataclass(frozen=True, slots=True)
class UserIdentity:
    """An account at the provider linked to a tokend user."""

    issuer: str
    subject: str
    user_id: str
    created_at: int


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    """A browser's trip to the provider, stored by its state's digest until it comes
    back (once) or expires."""

    state_digest: bytes
    code_verifier: str = field(repr=False)
    nonce: str = field(repr=False)
    next_path: str
    expires_at: int
    ip: str | None = None  # the browser's address, for the cap on trips under way


@dataclass(frozen=True, slots=True)
class VerifiedClaims:
    """What a verified id_token says about the person."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    preferred_username: str | None
    name: str | None


def valid_issuer(value: str) -> str:
    """An issuer is https, or http on this machine (a provider under test): its
    discovery document, keys and token endpoint are trusted for what it says."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise UpstreamSettingsError("use https://HOST[/PATH], with no query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UpstreamSettingsError("must be https (http only for localhost)")
    return value


def button_label(issuer: str, name: str | None) -> str:
    if name:
        return name
    return f"Sign in with {urlsplit(issuer).hostname}"


def username_base(claims: VerifiedClaims) -> str:
    """A username in tokend's alphabet from what the provider calls the person:
    ``preferred_username``, else the email's local part, else "user"."""
    for candidate in (claims.preferred_username, claims.email):
        if candidate:
            local = candidate.lower().split("@", 1)[0]
            cleaned = _NOT_IN_USERNAME.sub("-", local)[:_USERNAME_BASE_LENGTH].strip("._-")
            if cleaned:
                return cleaned
    return "user"


def username_candidates(base: str, tries: int) -> list[str]:
    """``base``, then ``base-2``, ``base-3``...: the first one free is taken."""
    return [base] + [f"{base}-{number}" for number in range(2, tries + 1)]


def email_domain_allowed(claims: VerifiedClaims, domains: list[str]) -> bool:
    """Whether a new account may be made for this person: any, with no domains set;
    else only a verified email in one of the domains (exactly: not a subdomain)."""
    if not domains:
        return True
    if not claims.email or not claims.email_verified:
        return False
    return claims.email.rsplit("@", 1)[-1].lower() in domains
