"""``POST /v1/integrations/sso/token`` against a live server: both grants, JSON and
form bodies, both ways of client authentication, every error of RFC 6749 §5.2 that
applies, and replays revoking what was issued."""

import base64
import threading
from collections.abc import Callable

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support import Server
from tests.web.conftest import Person
from tests.web.oidc import (
    App,
    code_for,
    consent,
    exchange,
    pkce_pair,
    redirect_params,
    register,
)
from tests.web.visitor import Visitor
from tokend.bootstrap import Services

CODE = "authorization_code"
REFRESH = "refresh_token"


def user_of(server: Server, access_token: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/v2/user", headers={"Authorization": f"Bearer {access_token}"}, timeout=10
    )


def claims_of(server: Server, id_token: str) -> dict[str, object]:
    """The id_token's claims, verified by joserfc with the keys the discovery names."""
    discovery = httpx.get(f"{server.url}/.well-known/openid-configuration", timeout=10).json()
    keys = KeySet.import_key_set(httpx.get(discovery["jwks_uri"], timeout=10).json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": discovery["issuer"]}, exp={"essential": True}
    ).validate(token.claims)
    return dict(token.claims)


@pytest.fixture
def app(services: Services) -> App:
    return register(services)


def test_the_code_grant_answers_tokens_of_the_person(
    server: Server, app: App, signed_in: Visitor, person: Person
) -> None:
    code = code_for(signed_in, app, nonce="nonce-1", scope="openid email profile")
    answer = exchange(
        server.url, app, {"grant_type": CODE, "code": code, "redirect_uri": app.redirect_uri}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert "refresh_token" not in body  # no offline_access asked
    claims = claims_of(server, body["id_token"])
    assert claims["sub"] == person.account.user_id
    assert claims["aud"] == app.client_id
    assert claims["nonce"] == "nonce-1"
    assert claims["preferred_username"] == person.username
    assert claims["email"] == f"{person.username}@localhost"
    assert user_of(server, body["access_token"]).json()["user"]["id"] == person.account.user_id
    listed = httpx.get(
        f"{server.url}/v5/user/tokens",
        headers={"Authorization": f"Bearer {person.account.token}"},
        timeout=10,
    ).json()["tokens"]
    made = [token for token in listed if token["origin"] == "app"]
    assert [token["name"] for token in made] == [app.name]


@pytest.mark.parametrize("how", ["json", "form", "basic"])
def test_each_body_and_client_authentication_is_accepted(
    server: Server, app: App, signed_in: Visitor, how: str
) -> None:
    code = code_for(signed_in, app)
    answer = exchange(
        server.url, app, {"grant_type": CODE, "code": code, "redirect_uri": app.redirect_uri},
        as_json=how == "json", basic=how == "basic",
    )  # fmt: skip
    assert answer.status_code == 200, answer.text


def test_a_wrong_secret_or_unknown_client_is_invalid_client(
    server: Server, app: App, signed_in: Visitor
) -> None:
    code = code_for(signed_in, app)
    body = {"grant_type": CODE, "code": code, "redirect_uri": app.redirect_uri}
    wrong = App(app.client_id, app.client_secret + "x", app.redirect_uri, app.name)
    unknown = App("oac_" + "x" * 24, app.client_secret, app.redirect_uri, app.name)
    for client in (wrong, unknown):
        answer = exchange(server.url, client, body)
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"] == "invalid_client"
        assert app.client_secret not in answer.text
    by_basic = exchange(server.url, wrong, body, basic=True)
    assert by_basic.status_code == 401
    assert by_basic.headers["www-authenticate"].startswith("Basic")
    missing = httpx.post(f"{server.url}/v1/integrations/sso/token", data=body, timeout=10)
    assert missing.json()["error"] == "invalid_client"
    # None of the failures used the code up.
    assert exchange(server.url, app, body).status_code == 200


def test_a_secret_sent_twice_is_refused(server: Server, app: App, signed_in: Visitor) -> None:
    code = code_for(signed_in, app)
    answer = httpx.post(
        f"{server.url}/v1/integrations/sso/token",
        data={"grant_type": CODE, "code": code, "client_secret": app.client_secret},
        auth=(app.client_id, app.client_secret),
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_a_basic_header_that_is_not_base64_is_invalid_client(server: Server) -> None:
    answer = httpx.post(
        f"{server.url}/v1/integrations/sso/token",
        data={"grant_type": CODE, "code": "x"},
        headers={"Authorization": "Basic !!!not-base64"},
        timeout=10,
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_basic_credentials_are_form_decoded(server: Server, app: App, signed_in: Visitor) -> None:
    # RFC 6749 §2.3.1: each part form-encoded before base64; ours need no escaping,
    # so an escaped character that decodes to the same text must still work.
    code = code_for(signed_in, app)
    encoded = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
    answer = httpx.post(
        f"{server.url}/v1/integrations/sso/token",
        data={"grant_type": CODE, "code": code, "redirect_uri": app.redirect_uri},
        headers={"Authorization": f"Basic {encoded}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def test_a_wrong_redirect_uri_is_invalid_grant(
    server: Server, services: Services, signed_in: Visitor
) -> None:
    app = register(services, "Two URIs", "https://app.example/a", "https://app.example/b")
    code = code_for(signed_in, app)
    for sent in ({"redirect_uri": "https://app.example/b"}, {}):
        answer = exchange(server.url, app, {"grant_type": CODE, "code": code, **sent})
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_grant"
    ok = exchange(
        server.url, app, {"grant_type": CODE, "code": code, "redirect_uri": app.redirect_uri}
    )
    assert ok.status_code == 200


def test_a_code_of_another_client_is_invalid_grant(
    server: Server, services: Services, app: App, signed_in: Visitor
) -> None:
    other = register(services, "Other App")
    code = code_for(signed_in, app)
    answer = exchange(
        server.url, other, {"grant_type": CODE, "code": code, "redirect_uri": app.redirect_uri}
    )
    assert answer.json()["error"] == "invalid_grant"
    mine = exchange(
        server.url, app, {"grant_type": CODE, "code": code, "redirect_uri": app.redirect_uri}
    )
    assert mine.status_code == 200


def test_a_reused_code_fails_and_revokes_what_the_first_use_issued(
    server: Server, app: App, signed_in: Visitor
) -> None:
    code = code_for(signed_in, app, scope="openid offline_access")
    body = {"grant_type": CODE, "code": code, "redirect_uri": app.redirect_uri}
    first = exchange(server.url, app, body).json()
    assert user_of(server, first["access_token"]).status_code == 200
    second = exchange(server.url, app, body)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    assert user_of(server, first["access_token"]).status_code == 401
    refreshed = exchange(
        server.url, app, {"grant_type": REFRESH, "refresh_token": first["refresh_token"]}
    )
    assert refreshed.json()["error"] == "invalid_grant"


def test_a_code_raced_by_two_requests_is_issued_once_then_revoked(
    server: Server, app: App, signed_in: Visitor
) -> None:
    code = code_for(signed_in, app)
    body = {"grant_type": CODE, "code": code, "redirect_uri": app.redirect_uri}
    answers: list[httpx.Response] = []
    start = threading.Barrier(4)

    def send() -> None:
        start.wait()
        answers.append(exchange(server.url, app, body))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [answer for answer in answers if answer.status_code == 200]
    assert len(won) == 1, [answer.text for answer in answers]
    assert {answer.json()["error"] for answer in answers if answer not in won} == {"invalid_grant"}
    # The losers were replays: the winner's token is revoked.
    assert user_of(server, won[0].json()["access_token"]).status_code == 401


def test_pkce_is_honoured(server: Server, app: App, signed_in: Visitor) -> None:
    verifier, challenge = pkce_pair()
    pkce = {"code_challenge": challenge, "code_challenge_method": "S256"}
    code = code_for(signed_in, app, **pkce)
    base = {"grant_type": CODE, "code": code, "redirect_uri": app.redirect_uri}
    for wrong in ({}, {"code_verifier": pkce_pair()[0]}, {"code_verifier": "short"}):
        answer = exchange(server.url, app, {**base, **wrong})
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_grant"
    assert exchange(server.url, app, {**base, "code_verifier": verifier}).status_code == 200


def test_a_verifier_for_a_code_without_challenge_is_refused(
    server: Server, app: App, signed_in: Visitor
) -> None:
    code = code_for(signed_in, app)
    answer = exchange(
        server.url, app,
        {"grant_type": CODE, "code": code, "redirect_uri": app.redirect_uri,
         "code_verifier": pkce_pair()[0]},
    )  # fmt: skip
    assert answer.json()["error"] == "invalid_grant"


def test_refresh_rotates_and_a_replayed_refresh_token_revokes_the_grant(
    server: Server, app: App, signed_in: Visitor, person: Person
) -> None:
    code = code_for(signed_in, app, scope="openid offline_access", nonce="n")
    first = exchange(
        server.url, app, {"grant_type": CODE, "code": code, "redirect_uri": app.redirect_uri}
    ).json()
    second_answer = exchange(
        server.url,
        app,
        {"grant_type": REFRESH, "refresh_token": first["refresh_token"]},
        as_json=True,
    )
    assert second_answer.status_code == 200, second_answer.text
    second = second_answer.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert claims_of(server, second["id_token"])["sub"] == person.account.user_id
    assert "nonce" not in claims_of(server, second["id_token"])
    for token in (first["access_token"], second["access_token"]):
        assert user_of(server, token).status_code == 200

    replay = exchange(
        server.url, app, {"grant_type": REFRESH, "refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    for token in (first["access_token"], second["access_token"]):
        assert user_of(server, token).status_code == 401
    latest = exchange(
        server.url, app, {"grant_type": REFRESH, "refresh_token": second["refresh_token"]}
    )
    assert latest.json()["error"] == "invalid_grant"


def test_revoking_the_apps_token_ends_its_refreshes(
    server: Server, app: App, signed_in: Visitor, person: Person
) -> None:
    code = code_for(signed_in, app, scope="openid offline_access")
    first = exchange(
        server.url, app, {"grant_type": CODE, "code": code, "redirect_uri": app.redirect_uri}
    ).json()
    token_id = httpx.get(
        f"{server.url}/v5/user/tokens/current",
        headers={"Authorization": f"Bearer {first['access_token']}"},
        timeout=10,
    ).json()["token"]["id"]
    deleted = httpx.delete(
        f"{server.url}/v3/user/tokens/{token_id}",
        headers={"Authorization": f"Bearer {person.account.token}"},
        timeout=10,
    )
    assert deleted.status_code == 200, deleted.text
    again = exchange(
        server.url, app, {"grant_type": REFRESH, "refresh_token": first["refresh_token"]}
    )
    assert again.json()["error"] == "invalid_grant"


def test_a_refresh_token_of_another_client_is_invalid_grant(
    server: Server, services: Services, app: App, signed_in: Visitor
) -> None:
    code = code_for(signed_in, app, scope="openid offline_access")
    first = exchange(
        server.url, app, {"grant_type": CODE, "code": code, "redirect_uri": app.redirect_uri}
    ).json()
    other = register(services, "Other")
    stolen = exchange(
        server.url, other, {"grant_type": REFRESH, "refresh_token": first["refresh_token"]}
    )
    assert stolen.json()["error"] == "invalid_grant"
    mine = exchange(
        server.url, app, {"grant_type": REFRESH, "refresh_token": first["refresh_token"]}
    )
    assert mine.status_code == 200


def test_a_refresh_cannot_widen_the_scope(server: Server, app: App, signed_in: Visitor) -> None:
    code = code_for(signed_in, app, scope="openid offline_access")
    first = exchange(
        server.url, app, {"grant_type": CODE, "code": code, "redirect_uri": app.redirect_uri}
    ).json()
    wider = exchange(
        server.url, app,
        {"grant_type": REFRESH, "refresh_token": first["refresh_token"], "scope": "openid email"},
    )  # fmt: skip
    assert wider.json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    ("send", "error"),
    [
        (lambda url: httpx.post(url, data={"code": "x"}), "invalid_request"),
        (lambda url: httpx.post(url, data={"grant_type": "password"}), "unsupported_grant_type"),
        (lambda url: httpx.post(url, json={"grant_type": CODE, "code": 5}), "invalid_request"),
        (lambda url: httpx.post(url, json=["grant_type"]), "invalid_request"),
        (
            lambda url: httpx.post(
                url, content=b"{nope", headers={"content-type": "application/json"}
            ),
            "invalid_request",
        ),
        (
            lambda url: httpx.post(
                url, content=b"grant_type=x", headers={"content-type": "text/plain"}
            ),
            "invalid_request",
        ),
        (
            lambda url: httpx.post(
                url,
                content=b"grant_type=authorization_code&grant_type=refresh_token",
                headers={"content-type": "application/x-www-form-urlencoded"},
            ),
            "invalid_request",
        ),
        (
            lambda url: httpx.post(
                url,
                content=b"grant_type=\xff",
                headers={"content-type": "application/x-www-form-urlencoded"},
            ),
            "invalid_request",
        ),
    ],
)
def test_malformed_requests_get_oauth_errors(
    server: Server, send: Callable[[str], httpx.Response], error: str
) -> None:
    answer = send(f"{server.url}/v1/integrations/sso/token")
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == error
    assert answer.json()["error_description"]


def test_an_unknown_code_is_invalid_grant(server: Server, app: App) -> None:
    for code in ("nope", "x" * 43, "x" * 5000):
        answer = exchange(server.url, app, {"grant_type": CODE, "code": code})
        assert answer.json()["error"] in ("invalid_grant", "invalid_request"), answer.text
        assert answer.status_code in (400, 413)


def test_userinfo_names_the_person(
    server: Server, app: App, signed_in: Visitor, person: Person
) -> None:
    code = code_for(signed_in, app)
    tokens = exchange(
        server.url, app, {"grant_type": CODE, "code": code, "redirect_uri": app.redirect_uri}
    ).json()
    for method in ("GET", "POST"):
        answer = httpx.request(
            method, f"{server.url}/oauth/userinfo",
            headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10,
        )  # fmt: skip
        assert answer.status_code == 200
        assert answer.json()["sub"] == person.account.user_id
        assert answer.json()["preferred_username"] == person.username
    refused = httpx.get(f"{server.url}/oauth/userinfo", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert refused.json()["error"]["code"] == "invalid_token"


def test_the_device_grant_works_at_the_token_endpoint_too(
    server: Server, signed_in: Visitor
) -> None:
    started = httpx.post(
        f"{server.url}/v1/oauth/device/code", data={"client_id": "cli", "name": "laptop"}
    ).json()
    page = signed_in.get(started["verification_uri_complete"].removeprefix(server.url))
    assert signed_in.submit(page, "Approve").status_code == 200
    answer = httpx.post(
        f"{server.url}/v1/integrations/sso/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": started["device_code"],
            "client_id": "cli",
        },
    )
    assert answer.status_code == 200, answer.text
    assert user_of(server, answer.json()["access_token"]).status_code == 200


def test_the_redirect_carries_the_issuer(server: Server, app: App, signed_in: Visitor) -> None:
    params = redirect_params(consent(signed_in, app), app)
    assert params["iss"] == server.url
    assert params["state"] == "state-123"
