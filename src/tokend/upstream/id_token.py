"""The id_token's verification, all of it by joserfc: the signature against the
provider's keys, then iss, aud, exp, iat, sub and nonce (OpenID Connect Core
§3.1.3.7)."""

from collections.abc import Sequence
from typing import Any

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError
from joserfc.jwk import KeySet

from tokend.domain.upstream import VerifiedClaims

LEEWAY_S = 60  # clocks of two machines differ


class UnknownSigningKey(Exception):
    """The token names a key the cached key set lacks: fetch it afresh, once."""


def verify_id_token(
    id_token: str,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    algorithms: Sequence[str],
) -> VerifiedClaims:
    """Raises `UnknownSigningKey`, or a `joserfc.errors.JoseError` (or ValueError)
    when the token is not good."""
    try:
        token = jwt.decode(id_token, keys, algorithms=list(algorithms))
    except InvalidKeyIdError as exc:
        raise UnknownSigningKey() from exc
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_S,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    registry.validate(token.claims)
    claims = token.claims
    # With several audiences, the party it was issued to must be us (Core §3.1.3.7,
    # items 4 and 5).
    if isinstance(claims["aud"], list) and len(claims["aud"]) > 1 and "azp" not in claims:
        raise ValueError("an id_token for several audiences without azp")
    if "azp" in claims and claims["azp"] != client_id:
        raise ValueError("the id_token was issued to another client (azp)")
    return VerifiedClaims(
        issuer=issuer,
        subject=_text(claims["sub"], 255, required=True) or "",
        email=_text(claims.get("email"), 320),
        email_verified=claims.get("email_verified") in (True, "true"),
        preferred_username=_text(claims.get("preferred_username"), 255),
        name=_text(claims.get("name"), 256),
    )


def _text(value: Any, max_length: int, *, required: bool = False) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= max_length:
        return value
    if required:
        raise ValueError("the id_token's sub is not a string of 1-255 characters")
    return None
