"""OpenID Connect discovery and the published keys (SPEC §10): the document a relying
party configures itself from, and a JWKS that joserfc reads, with public halves only."""

from pathlib import Path

import httpx
from joserfc.jwk import KeySet, RSAKey

from tests.conftest import SIGNING_KEY_SECRET
from tests.oidc import DISCOVERY_PATH, discovery, published_keys
from tests.support import Server
from tokend.bootstrap import Services

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
ENDPOINTS = (
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "userinfo_endpoint",
    "device_authorization_endpoint",
)


def test_the_discovery_document_lists_what_the_spec_says(server: Server) -> None:
    answer = httpx.get(f"{server.url}{DISCOVERY_PATH}", timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    document = answer.json()

    issuer = server.url  # no TOKEND_PUBLIC_URL: http://127.0.0.1:PORT
    assert document["issuer"] == issuer
    assert document["authorization_endpoint"] == f"{issuer}/oauth/authorize"
    assert document["token_endpoint"] == f"{issuer}/v1/integrations/sso/token"
    assert document["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert document["userinfo_endpoint"] == f"{issuer}/oauth/userinfo"
    assert document["device_authorization_endpoint"] == f"{issuer}/v1/oauth/device/code"
    assert document["response_types_supported"] == ["code"]
    assert {"authorization_code", "refresh_token", DEVICE_GRANT} <= set(
        document["grant_types_supported"]
    )
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in document["id_token_signing_alg_values_supported"]
    assert "none" not in document["id_token_signing_alg_values_supported"]
    assert {"openid", "email", "profile", "offline_access"} <= set(document["scopes_supported"])
    # OpenID Connect Discovery 1.0 §3 requires subject_types_supported; client
    # authentication in the body or with HTTP Basic, as SPEC §10 says.
    assert "public" in document["subject_types_supported"]
    assert {"client_secret_basic", "client_secret_post"} <= set(
        document.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
    )


def test_every_endpoint_of_the_document_answers(server: Server) -> None:
    document = discovery(server)
    with httpx.Client(timeout=30) as http:
        # Each is there: no 404 (what else they answer without credentials is theirs).
        for field in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint"):
            answer = http.get(document[field])
            assert answer.status_code != 404, (field, answer.status_code)
        assert http.get(document["jwks_uri"]).status_code == 200


def test_the_published_keys_are_public_rsa_signing_keys_joserfc_reads(server: Server) -> None:
    answer = httpx.get(discovery(server)["jwks_uri"], timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(
        ("application/json", "application/jwk-set+json")
    )
    raw = answer.json()
    assert raw["keys"], "no key published"
    kids = [key["kid"] for key in raw["keys"]]
    assert all(kids)
    assert len(set(kids)) == len(kids), "two keys share a kid"
    for key in raw["keys"]:
        assert not PRIVATE_MEMBERS & set(key), f"key {key['kid']} publishes a private member"
        assert key.get("use", "sig") == "sig"

    keys = published_keys(server)
    assert isinstance(keys, KeySet)
    rsa = [key for key in keys if isinstance(key, RSAKey)]
    assert rsa, "no RSA key for RS256"
    for key in rsa:
        assert not key.is_private
        # RFC 7518 §3.3: 2048 bits at least.
        assert key.public_key.key_size >= 2048


def test_the_issuer_and_every_endpoint_are_on_the_public_url(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    # `services` has migrated the database this second server opens.
    public = "https://tokend.example.test"
    env = {"TOKEND_PUBLIC_URL": public, "TOKEND_SIGNING_KEY_SECRET": SIGNING_KEY_SECRET}
    with Server(database_url=database_url, log_path=tmp_path / "tokend.log", env=env) as behind:
        document = httpx.get(f"{behind.url}{DISCOVERY_PATH}", timeout=30).json()
    assert document["issuer"] == public
    for field in ENDPOINTS:
        assert document[field].startswith(f"{public}/"), (field, document[field])
