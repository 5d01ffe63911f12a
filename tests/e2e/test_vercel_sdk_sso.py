"""Outside-client end-to-end test of SSO token exchange (SPEC §10): the real
`@vercel/sdk` 1.28.35, unmodified, trades the authorization code an integration got
from tokend's consent page for an id_token, an access token and a refresh token
(`exchangeSsoToken`, grant authorization_code), then the refresh token for a new pair
(grant refresh_token); reusing the old refresh token fails and revokes the family.

A person signs in and consents over HTTP (httpx, as a browser without JavaScript
would); the redirect URI is on 127.0.0.1 but nothing listens there: the code is read
from the Location header. `tests/e2e/node/sso_client.mjs` does the exchanges, with
every secret in its environment; the id_tokens are verified with joserfc against
the keys behind the discovery document's jwks_uri.
"""

import json
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.e2e.sdk import SDK_VERSION, SECRET, run_node
from tests.oidc import verified_id_token
from tests.support import Server, free_port
from tests.web.visitor import Visitor
from tokend.bootstrap import Services

PASSWORD = "correct horse battery staple"
SCOPE = "openid email profile offline_access"
TOKEN_PATH = "/v1/integrations/sso/token"


@dataclass(frozen=True)
class Person:
    username: str
    email: str
    name: str
    user_id: str
    token: str  # the bootstrap token of the account


@dataclass(frozen=True)
class Integration:
    name: str
    client_id: str
    client_secret: str
    redirect_uri: str


@pytest.fixture
def person(services: Services) -> Person:
    username = f"sso-{uuid.uuid4().hex[:10]}"
    name = f"Ada {uuid.uuid4().hex[:6]}"
    created = services.admin.create_user(username, name=name)
    services.accounts.set_password(username, PASSWORD)
    return Person(username, created.user.email, name, created.user.id, created.issued.secret)


@pytest.fixture
def integration(services: Services) -> Integration:
    # Nothing listens on this port: the test reads the redirect, it does not follow it.
    redirect_uri = f"http://127.0.0.1:{free_port()}/auth/callback"
    name = f"Deploy Dashboard {uuid.uuid4().hex[:6]}"
    created = services.integrations.create(name, redirect_uris=[redirect_uri])
    assert created.integration.name == name
    assert list(created.integration.redirect_uris) == [redirect_uri]
    return Integration(name, created.integration.client_id, created.client_secret, redirect_uri)


def authorization_code(
    server: Server, person: Person, integration: Integration, *, state: str, nonce: str
) -> str:
    """Sign in where /oauth/authorize sends a stranger, come back, press "Allow" on the
    consent page; the code the redirect to the integration carries."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": integration.client_id,
            "redirect_uri": integration.redirect_uri,
            "scope": SCOPE,
            "state": state,
            "nonce": nonce,
        }
    )
    with Visitor(server) as browser:
        asked = browser.http.get(f"/oauth/authorize?{query}")
        assert asked.status_code in (302, 303), (asked.status_code, asked.text[:300])
        assert urlsplit(asked.headers["location"]).path == "/login", asked.headers["location"]
        login = browser.get(asked.headers["location"])
        back = browser.submit(
            login, "Sign in", {"Username or email": person.username, "Password": PASSWORD}
        )
        assert back.status_code == 303, (back.status_code, back.text[:300])
        consent = browser.follow(back)
        assert urlsplit(str(consent.response.url)).path == "/oauth/authorize"
        assert consent.status == 200, consent.html[:500]
        assert integration.name in consent.doc.text
        assert {"Allow", "Deny"} <= set(consent.doc.buttons())

        allowed = browser.submit(consent, "Allow")
    assert allowed.status_code in (302, 303), (allowed.status_code, allowed.text[:300])
    location = urlsplit(allowed.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == integration.redirect_uri
    params = parse_qs(location.query)
    assert params["state"] == [state]
    assert "error" not in params, params
    [code] = params["code"]
    return code


def run_sso_client(
    node_project: Path, server: Server, integration: Integration, **inputs: str
) -> dict[str, Any]:
    """sso_client.mjs with the client's credentials and ``inputs`` (SSO_CODE and
    SSO_REDIRECT_URI, or SSO_REFRESH_TOKEN) in its environment."""
    env = {
        "TOKEND_URL": server.url,
        "SSO_CLIENT_ID": integration.client_id,
        "SSO_CLIENT_SECRET": integration.client_secret,
        **inputs,
    }
    done = run_node(node_project / "sso_client.mjs", env)
    for secret in (integration.client_secret, *inputs.values()):
        assert secret not in done.stderr, "the SSO client printed a secret on stderr"
    assert integration.client_secret not in done.stdout, "the SSO client printed the secret"
    # stdout holds the tokens the test needs: it is never echoed, only stderr (redacted).
    assert done.returncode == 0, f"sso_client.mjs failed:\n{SECRET.sub('[secret]', done.stderr)}"
    out: dict[str, Any] = json.loads(done.stdout)
    assert out["sdkVersion"] == SDK_VERSION
    return out


def succeeded(step: dict[str, Any], grant: str) -> dict[str, Any]:
    """The SDK's result of a successful exchange, checked against the raw answer."""
    assert step["label"] == grant
    assert "error" not in step, {k: v for k, v in step.get("error", {}).items() if k != "body"}
    http = step["http"]
    assert (http["method"], http["path"], http["status"]) == ("POST", TOKEN_PATH, 200)
    # The SDK sends JSON with the client's credentials in the body, as Vercel expects.
    assert http["requestContentType"] == "application/json"
    assert not http["requestAuthorization"]
    assert http["responseContentType"].startswith("application/json")
    assert http["cacheControl"] == "no-store"  # RFC 6749 §5.1
    result, raw = step["result"], step["raw"]
    # Nothing invented or dropped by the SDK's parsing: its fields are the server's.
    assert result == {
        "accessToken": raw["access_token"],
        "expiresIn": raw["expires_in"],
        "idToken": raw["id_token"],
        "refreshToken": raw["refresh_token"],
        "tokenType": raw["token_type"],
    }
    assert set(raw) <= {"access_token", "token_type", "expires_in", "id_token", "refresh_token",
                        "scope"}  # fmt: skip
    assert raw["token_type"].lower() == "bearer"
    assert 0 < raw["expires_in"] <= 3600
    assert SECRET.fullmatch(raw["access_token"]), "the access token is not a tokend token"
    return dict(result)


def failed(step: dict[str, Any], grant: str) -> dict[str, Any]:
    """The HTTP error the SDK threw for an exchange; RFC 6749 §5.2's body."""
    assert step["label"] == grant
    assert "result" not in step, "the exchange succeeded"
    error = step["error"]
    assert error["status"] == 400, error
    assert step["http"]["cacheControl"] == "no-store"
    body: dict[str, Any] = error["body"]
    return body


def who(server: Server, access_token: str) -> httpx.Response:
    with server.client(access_token) as api:
        return api.get("/v2/user")


@pytest.mark.node
def test_exchange_sso_token_through_the_vercel_sdk(
    node_project: Path, server: Server, person: Person, integration: Integration
) -> None:
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    code = authorization_code(server, person, integration, state=state, nonce=nonce)

    out = run_sso_client(
        node_project, server, integration, SSO_CODE=code, SSO_REDIRECT_URI=integration.redirect_uri
    )
    assert [step["label"] for step in out["steps"]] == ["authorization_code", "refresh_token"]
    first = succeeded(out["steps"][0], "authorization_code")
    second = succeeded(out["steps"][1], "refresh_token")

    # The id_token verifies against the published keys; it names the person.
    claims = verified_id_token(server, first["idToken"], client_id=integration.client_id,
                               nonce=nonce)  # fmt: skip
    assert claims["sub"] == person.user_id
    assert claims["preferred_username"] == person.username
    assert claims["email"] == person.email
    assert claims["name"] == person.name
    assert claims["exp"] > claims["iat"]
    refreshed = verified_id_token(server, second["idToken"], client_id=integration.client_id)
    assert refreshed["sub"] == person.user_id

    # The access token is a tokend token of the person, origin "app", named after
    # the integration, expiring when expires_in says.
    answer = who(server, first["accessToken"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["id"] == person.user_id
    with server.client(first["accessToken"]) as api:
        current = api.get("/v5/user/tokens/current").json()["token"]
        listed = api.get("/v5/user/tokens", params={"limit": 100}).json()["tokens"]
    assert current["origin"] == "app"
    assert current["name"] == integration.name
    assert abs(current["expiresAt"] - current["createdAt"] - first["expiresIn"] * 1000) < 5_000
    assert {(t["id"], t["name"], t["origin"]) for t in listed} >= {
        (current["id"], integration.name, "app")
    }

    # The refreshed pair is new and works.
    assert second["refreshToken"] != first["refreshToken"]
    assert second["accessToken"] != first["accessToken"]
    answer = who(server, second["accessToken"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["id"] == person.user_id

    # The old refresh token, used again through the SDK: 400 invalid_grant ...
    again = run_sso_client(
        node_project, server, integration, SSO_REFRESH_TOKEN=first["refreshToken"]
    )
    [reuse] = again["steps"]
    assert failed(reuse, "refresh_token")["error"] == "invalid_grant"
    # ... and the whole family is revoked: every access token issued from the grant
    # stops working, and so does the newest refresh token.
    for access_token in (first["accessToken"], second["accessToken"]):
        answer = who(server, access_token)
        assert answer.status_code == 401, answer.text
    newest = run_sso_client(
        node_project, server, integration, SSO_REFRESH_TOKEN=second["refreshToken"]
    )
    assert failed(newest["steps"][0], "refresh_token")["error"] == "invalid_grant"
    # The person's own list no longer shows the app's tokens.
    with server.client(person.token) as api:
        left = api.get("/v5/user/tokens", params={"limit": 100}).json()["tokens"]
    assert [t["origin"] for t in left] == ["manual"], [(t["name"], t["origin"]) for t in left]


@pytest.mark.node
def test_a_code_works_once_through_the_vercel_sdk(
    node_project: Path, server: Server, person: Person, integration: Integration
) -> None:
    code = authorization_code(
        server, person, integration, state=secrets.token_urlsafe(16), nonce="n-0S6_WzA2Mj"
    )
    out = run_sso_client(
        node_project, server, integration, SSO_CODE=code, SSO_REDIRECT_URI=integration.redirect_uri
    )
    first = succeeded(out["steps"][0], "authorization_code")

    again = run_sso_client(
        node_project, server, integration, SSO_CODE=code, SSO_REDIRECT_URI=integration.redirect_uri
    )
    [reuse] = again["steps"]
    assert failed(reuse, "authorization_code")["error"] == "invalid_grant"
    # A second use revokes what the first issued (SPEC §10).
    answer = who(server, first["accessToken"])
    assert answer.status_code == 401, answer.text
