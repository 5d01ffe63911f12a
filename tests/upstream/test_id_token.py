"""The id_token checks, with tokens signed here by joserfc: each claim that must be
checked, when wrong, is refused."""

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from tokend.upstream.discovery import parse_metadata
from tokend.upstream.id_token import UnknownSigningKey, verify_id_token

ISSUER = "https://idp.example.com/realms/people"
CLIENT = "tokend"
NONCE = "n-0123456789"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
KEYS = KeySet([KEY])


def _token(key: RSAKey = KEY, alg: str = "RS256", **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "person-1",
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
        "email": "ada@example.com",
        "email_verified": True,
        **changes,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)


def _verify(token: str, keys: KeySet = KEYS) -> Any:
    return verify_id_token(
        token, keys, issuer=ISSUER, client_id=CLIENT, nonce=NONCE, algorithms=["RS256"]
    )


def test_a_good_token_gives_its_claims() -> None:
    claims = _verify(_token(name="Ada"))
    assert (claims.issuer, claims.subject, claims.email) == (ISSUER, "person-1", "ada@example.com")
    assert claims.email_verified is True
    assert claims.name == "Ada"
    assert _verify(_token(aud=[CLIENT, "other"], azp=CLIENT)).subject == "person-1"


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "https://evil.example.com"},
        {"iss": None},
        {"aud": "another-client"},
        {"aud": None},
        {"aud": [CLIENT, "other"]},  # several audiences and no azp
        {"azp": "another-client"},
        {"exp": int(time.time()) - 3600},
        {"exp": None},
        {"iat": None},
        {"nonce": "another trip's nonce"},
        {"nonce": None},
        {"sub": None},
        {"sub": ""},
    ],
)
def test_a_wrong_claim_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises((JoseError, ValueError)):
        _verify(_token(**changes))


def test_a_signature_by_another_key_is_refused() -> None:
    impostor = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    with pytest.raises(JoseError):
        _verify(_token(impostor))


def test_an_unknown_key_asks_for_the_keys_afresh() -> None:
    rotated = RSAKey.generate_key(2048, parameters={"kid": "k2"})
    with pytest.raises(UnknownSigningKey):
        _verify(_token(rotated))
    assert _verify(_token(rotated), KeySet([KEY, rotated])).subject == "person-1"


def test_only_public_key_algorithms_are_taken_from_discovery() -> None:
    document = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/auth",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/certs",
        "id_token_signing_alg_values_supported": ["none", "HS256", "RS256", "ES256"],
    }
    assert parse_metadata(ISSUER, document).algorithms == ("RS256", "ES256")
    with pytest.raises(ValueError, match="names issuer"):
        parse_metadata(ISSUER + "/", document)
    with pytest.raises(ValueError, match="none of"):
        parse_metadata(ISSUER, {**document, "id_token_signing_alg_values_supported": ["HS256"]})
