"""tokend as an OpenID Connect provider, seen from outside (SPEC §10): its discovery
document, its published keys, and an id_token checked the way a relying party checks
it, by joserfc against the keys behind ``jwks_uri`` (never by tokend's own code)."""

from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support import Server

DISCOVERY_PATH = "/.well-known/openid-configuration"


def discovery(server: Server) -> dict[str, Any]:
    answer = httpx.get(f"{server.url}{DISCOVERY_PATH}", timeout=30)
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def published_keys(server: Server) -> KeySet:
    """The keys at the discovery document's ``jwks_uri``, as a relying party finds them."""
    answer = httpx.get(discovery(server)["jwks_uri"], timeout=30)
    assert answer.status_code == 200, answer.text
    return KeySet.import_key_set(answer.json())


def verified_id_token(
    server: Server, id_token: str, *, client_id: str, nonce: str | None = None
) -> dict[str, Any]:
    """The claims of ``id_token`` once its signature verifies against the published
    keys and its iss, aud, exp and iat (and nonce, when given) are what they must be."""
    token = jwt.decode(id_token, published_keys(server), algorithms=["RS256", "ES256"])
    assert token.header.get("kid"), token.header
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": discovery(server)["issuer"]},
        "aud": {"essential": True, "value": client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
    }
    if nonce is not None:
        options["nonce"] = {"essential": True, "value": nonce}
    jwt.JWTClaimsRegistry(leeway=5, **options).validate(token.claims)
    return dict(token.claims)
