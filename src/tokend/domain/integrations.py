"""Integrations: the apps (OAuth clients) people sign in to with tokend.

A client secret is shown once and kept only as a digest; redirect URIs are compared
exactly, character for character (RFC 9700 §4.1.3), never by prefix or pattern.
"""

import hmac
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from tokend.domain import ids
from tokend.domain.errors import ValidationFailed
from tokend.domain.text import has_control_characters

CLIENT_SECRET_PREFIX = "tkdcs_"
CLIENT_SECRET_LENGTH = 40
MAX_REDIRECT_URIS = 20
REDIRECT_URI_MAX_LENGTH = 2000
# Loopback redirects may use http (RFC 8252 §7.3); anywhere else a code in the clear
# could be read off the network.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# No user:password@, nothing a browser or a header would read differently.
_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"  # name, IPv4, [IPv6]
    r"(?::[0-9]{1,5})?"
)


@dataclass(frozen=True, slots=True)
class Integration:
    id: str
    client_id: str
    name: str
    secret_digest: bytes
    redirect_uris: tuple[str, ...]
    created_at: int

    def allows(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def secret_matches(self, digest: bytes) -> bool:
        return hmac.compare_digest(self.secret_digest, digest)


def new_integration_id() -> str:
    return "int_" + ids.random_base62(ids.ID_LENGTH)


def new_client_id() -> str:
    return "oac_" + ids.random_base62(ids.ID_LENGTH)


def new_client_secret() -> str:
    # Prefixed, so that secret scanners and people can tell it from a token.
    return CLIENT_SECRET_PREFIX + ids.random_base62(CLIENT_SECRET_LENGTH)


def looks_like_client_id(candidate: str) -> bool:
    return len(candidate) == 4 + ids.ID_LENGTH and candidate.startswith("oac_")


def validate_integration_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or has_control_characters(name):
        raise ValidationFailed("The integration's name must be 1 to 100 characters.")
    return name


def validate_redirect_uri(uri: str) -> str:
    """An absolute URI with no fragment: https, http on a loopback host, or an app's own
    scheme (``com.example.app:/callback``, RFC 8252 §7.1)."""
    problem = _redirect_uri_problem(uri)
    if problem:
        raise ValidationFailed(f"The redirect URI {uri[:100]!r} is not accepted: {problem}.")
    return uri


def validate_redirect_uris(uris: list[str]) -> tuple[str, ...]:
    if not uris:
        raise ValidationFailed("Give at least one redirect URI.")
    if len(uris) > MAX_REDIRECT_URIS:
        raise ValidationFailed(f"Give at most {MAX_REDIRECT_URIS} redirect URIs.")
    return tuple(dict.fromkeys(validate_redirect_uri(uri) for uri in uris))


def _redirect_uri_problem(uri: str) -> str | None:
    if len(uri) > REDIRECT_URI_MAX_LENGTH or has_control_characters(uri) or " " in uri:
        return f"at most {REDIRECT_URI_MAX_LENGTH} characters, no spaces or control characters"
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "it is not a URI"
    if parts.fragment or "#" in uri:
        return "a redirect URI has no fragment (#…)"
    scheme = parts.scheme.lower()
    if parts.netloc and not _HOST.fullmatch(parts.netloc):
        # Also what keeps the consent page's CSP header, which names this origin, whole.
        return "the host must be a name, an IPv4 or a [IPv6] address, with an optional port"
    if scheme == "https":
        return None if parts.hostname else "it names no host"
    if scheme == "http":
        if parts.hostname in LOOPBACK_HOSTS:
            return None
        return "use https (http only for localhost, 127.0.0.1 or [::1])"
    if "." in scheme and not parts.netloc:
        return None  # a native app's private-use scheme
    if scheme in ("javascript", "data", "file", "vbscript") or not scheme:
        return "use https"
    return "use https, or an app's own scheme with a dot (com.example.app:/callback)"
