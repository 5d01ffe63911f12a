"""``/oauth/authorize``: sign-in first, the consent page, and every error of RFC 6749
§4.1.2.1: sent back to a registered redirect URI with the state, or, when the client
or the URI cannot be trusted, shown on a page and never redirected."""

from urllib.parse import quote

import httpx
import pytest

from tests.support import Server
from tests.web.conftest import Person
from tests.web.oidc import (
    App,
    authorize_url,
    code_for,
    consent,
    exchange,
    redirect_params,
    register,
)
from tests.web.visitor import Visitor
from tokend.bootstrap import Services


@pytest.fixture
def app(services: Services) -> App:
    return register(services, "Acme Dashboard")


def test_a_signed_out_person_signs_in_first_and_comes_back(
    visitor: Visitor, app: App, person: Person
) -> None:
    url = authorize_url(app)
    first = visitor.http.get(url)
    assert first.status_code == 303
    assert first.headers["location"] == f"/login?next={quote(url, safe='/')}"
    login = visitor.follow(first)
    back = visitor.submit(
        login, "Sign in", {"Username or email": person.username, "Password": person.password}
    )
    assert back.headers["location"] == url
    page = visitor.follow(back)
    assert page.doc.one(data_testid="integration-name").text == "Acme Dashboard"
    assert page.doc.button("Allow") is not None
    assert page.doc.button("Deny") is not None


def test_prompt_none_with_nobody_signed_in_goes_back_as_login_required(
    visitor: Visitor, app: App, services: Services
) -> None:
    answer = redirect_params(visitor.http.get(authorize_url(app, state="st", prompt="none")), app)
    assert answer["error"] == "login_required"
    assert answer["state"] == "st"
    # An app not registered, or a redirect URI not its own, is still never redirected to.
    stranger = register(services, "Other", "https://other.example/cb")
    page = visitor.get(
        authorize_url(stranger, prompt="none", redirect_uri="https://evil.example/cb")
    )
    assert page.status == 400
    assert "location" not in page.response.headers


def test_the_consent_page_names_what_the_app_gets(signed_in: Visitor, app: App) -> None:
    page = signed_in.get(authorize_url(app, scope="openid email offline_access"))
    assert page.status == 200
    text = page.doc.one("main").text if page.doc.all("main") else page.html
    assert "Your email address" in text
    assert "renew its token without you" in text
    assert "Your username and name" not in text
    # The form's answer redirects to the app: the page's policy allows its origin, and
    # only that one, besides tokend's own.
    policy = page.response.headers["content-security-policy"]
    assert "form-action 'self' http://127.0.0.1:9;" in policy
    assert "frame-ancestors 'none'" in policy


def test_allow_sends_a_code_and_the_state_back(signed_in: Visitor, app: App) -> None:
    params = redirect_params(consent(signed_in, app, state="xyz"), app)
    assert set(params) == {"code", "state", "iss"}
    assert params["state"] == "xyz"


def test_deny_sends_access_denied_and_the_state_back(signed_in: Visitor, app: App) -> None:
    params = redirect_params(consent(signed_in, app, decision="Deny", state="s-1"), app)
    assert params["error"] == "access_denied"
    assert params["state"] == "s-1"
    assert "code" not in params


def test_an_unknown_client_is_told_on_a_page(signed_in: Visitor, app: App) -> None:
    page = signed_in.get(authorize_url(App("oac_nope", "", app.redirect_uri, "")))
    assert page.status == 400
    assert "location" not in page.response.headers
    assert "not registered" in page.html


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example/callback",
        "http://127.0.0.1:9/callback/",  # a prefix match is no match
        "http://127.0.0.1:9/callback?x=1",
        "http://127.0.0.1:9/Callback",
    ],
)
def test_an_unregistered_redirect_uri_is_never_redirected_to(
    signed_in: Visitor, app: App, uri: str
) -> None:
    page = signed_in.get(authorize_url(app, redirect_uri=uri, response_type="token"))
    assert page.status == 400
    assert "location" not in page.response.headers
    assert "evil" not in page.response.headers.get("content-security-policy", "")


def test_without_redirect_uri_the_only_registered_one_is_used(
    signed_in: Visitor, services: Services, app: App
) -> None:
    params = redirect_params(consent(signed_in, app, redirect_uri=""), app)
    assert "code" in params
    two = register(services, "Two", "https://a.example/cb", "https://b.example/cb")
    page = signed_in.get(authorize_url(two, redirect_uri=""))
    assert page.status == 400
    assert "location" not in page.response.headers


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": ""}, "unsupported_response_type"),
        ({"scope": "email profile"}, "invalid_scope"),
        ({"code_challenge": "a" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "a" * 43}, "invalid_request"),  # plain by default: refused
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
        ({"code_challenge_method": "S256"}, "invalid_request"),
        ({"nonce": "n" * 300}, "invalid_request"),
        ({"prompt": "none"}, "consent_required"),
        ({"request": "eyJ..."}, "request_not_supported"),
    ],
)
def test_what_the_client_got_wrong_goes_back_to_it(
    signed_in: Visitor, app: App, params: dict[str, str], error: str
) -> None:
    response = signed_in.http.get(authorize_url(app, state="st", **params))
    answer = redirect_params(response, app)
    assert answer["error"] == error
    assert answer["state"] == "st"
    assert answer["error_description"]


def test_the_consent_answer_needs_the_sessions_csrf_token(signed_in: Visitor, app: App) -> None:
    page = signed_in.get(authorize_url(app))
    refused = signed_in.submit(page, "Allow", csrf_token="forged")
    assert refused.status_code == 403
    assert "location" not in refused.headers
    from_elsewhere = signed_in.submit(page, "Allow", headers={"Origin": "https://evil.example"})
    assert from_elsewhere.status_code == 403


def test_the_consent_answer_checks_its_hidden_fields_again(signed_in: Visitor, app: App) -> None:
    page = signed_in.get(authorize_url(app))
    moved = signed_in.submit(page, "Allow", redirect_uri="https://evil.example/callback")
    assert moved.status_code == 400
    assert "location" not in moved.headers


def test_a_code_is_for_the_person_who_allowed(
    server: Server, signed_in: Visitor, app: App, person: Person
) -> None:
    code = code_for(signed_in, app)
    sent = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri}
    body = exchange(server.url, app, sent).json()
    me = httpx.get(
        f"{server.url}/v2/user", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["user"]["username"] == person.username
