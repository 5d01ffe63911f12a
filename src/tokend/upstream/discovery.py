"""The provider's discovery document and key set, fetched over HTTPS with a timeout
and kept a few minutes, so a sign-in costs the provider two requests, not four."""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tokend.domain.upstream import ProviderUnavailable

log = logging.getLogger("tokend.upstream")

T = TypeVar("T")

CACHE_S = 300.0
TIMEOUT_S = 5.0
# Algorithms an id_token may be signed with: public-key ones only. "none" and the
# HMAC ones (keyed with the client secret) are never accepted.
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]
    token_auth_methods: tuple[str, ...]


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def parse_metadata(issuer: str, document: Any) -> ProviderMetadata:
    """The parts tokend uses. The document must name ``issuer`` exactly (OpenID
    Connect Discovery §4.3): another issuer's document is not this provider's."""
    if not isinstance(document, dict):
        raise ValueError("the discovery document is not a JSON object")
    if document.get("issuer") != issuer:
        raise ValueError(
            f"the discovery document names issuer {document.get('issuer')!r}, "
            f"not TOKEND_OIDC_ISSUER {issuer!r}"
        )
    endpoints = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(name)
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            raise ValueError(f"the discovery document has no usable {name}")
        endpoints[name] = value
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = tuple(alg for alg in ASYMMETRIC if alg in offered)
    if not algorithms:
        raise ValueError(f"the provider signs id_tokens with none of {', '.join(ASYMMETRIC)}")
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return ProviderMetadata(
        **endpoints,
        algorithms=algorithms,
        token_auth_methods=tuple(m for m in methods if isinstance(m, str)),
    )


class ProviderDocuments:
    """The discovery document and the JWKS of one issuer, each cached for
    `CACHE_S`; the JWKS can be fetched afresh when a token names a key not in it
    (the provider rotated its keys)."""

    def __init__(
        self,
        issuer: str,
        http: httpx.Client,
        *,
        cache_s: float = CACHE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer
        self._http = http
        self._cache_s = cache_s
        self._clock = clock
        self._lock = threading.Lock()
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: tuple[float, KeySet] | None = None

    def metadata(self) -> ProviderMetadata:
        with self._lock:
            if self._metadata is None or self._expired(self._metadata[0]):
                url = discovery_url(self.issuer)
                metadata = self._get(url, lambda body: parse_metadata(self.issuer, body))
                self._metadata = (self._clock(), metadata)
            return self._metadata[1]

    def keys(self, *, fresh: bool = False) -> KeySet:
        jwks_uri = self.metadata().jwks_uri
        with self._lock:
            if fresh or self._keys is None or self._expired(self._keys[0]):
                keys = self._get(jwks_uri, KeySet.import_key_set)
                self._keys = (self._clock(), keys)
            return self._keys[1]

    def _expired(self, fetched_at: float) -> bool:
        return self._clock() - fetched_at >= self._cache_s

    def _get(self, url: str, parse: Callable[[Any], T]) -> T:
        try:
            response = self._http.get(url)
            response.raise_for_status()
            return parse(response.json())
        except httpx.HTTPError as exc:
            log.warning("identity provider unreachable at %s: %s", url, type(exc).__name__)
        except (ValueError, KeyError, TypeError, JoseError) as exc:
            log.warning("identity provider's document at %s is unusable: %s", url, exc)
        raise ProviderUnavailable()
