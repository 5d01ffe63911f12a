"""Sign in with tokend (SPEC §10), in Chromium: a standard OpenID Connect relying party
(Authlib's client, see relying_party.py) sends a person to tokend, who signs in,
sees the consent page name the app, and allows or denies; the app gets the person
(code flow with PKCE, id_token verified by Authlib against jwks_uri) or
access_denied with the state it sent."""

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Browsing, Person
from tests.browser.pages import signed_in
from tests.browser.relying_party import RelyingParty
from tests.support import Server, free_port, serving
from tests.test_readme import example
from tokend.bootstrap import Services


@dataclass(frozen=True)
class App:
    name: str
    client_id: str
    rp: RelyingParty


@pytest.fixture
def app(services: Services, server: Server) -> Iterator[App]:
    """A relying party, registered with tokend as an integration and running."""
    rp = RelyingParty()
    name = f"Example App {uuid.uuid4().hex[:6]}"
    created = services.integrations.create(name, redirect_uris=[rp.redirect_uri])
    rp.register(
        discovery_url=f"{server.url}/.well-known/openid-configuration",
        client_id=created.integration.client_id,
        client_secret=created.client_secret,
    )
    with rp.running():
        yield App(name, created.integration.client_id, rp)


@pytest.fixture
def tab(browsing: Browsing, app: App) -> Page:
    browsing.guard.allow(app.rp.url)
    return browsing.new_page()


def on(base: str, path: str) -> re.Pattern[str]:
    """A URL of the site at ``base`` on ``path``, whatever query follows."""
    return re.compile(rf"^{re.escape(base)}{re.escape(path)}(\?.*)?$")


def to_consent(tab: Page, server: Server, app: App, person: Person) -> None:
    """From the app's "Sign in with tokend" to tokend's consent page, signing in on
    the way."""
    tab.goto(f"{app.rp.url}/login")
    expect(tab).to_have_url(on(server.url, "/login"))
    tab.get_by_label("Username or email").fill(person.username)
    tab.get_by_label("Password", exact=True).fill(person.password)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab).to_have_url(on(server.url, "/oauth/authorize"))
    expect(tab.get_by_text(app.name).first).to_be_visible()
    expect(tab.get_by_role("button", name="Allow")).to_be_visible()
    expect(tab.get_by_role("button", name="Deny")).to_be_visible()


def test_a_relying_party_signs_a_person_in_with_pkce(
    tab: Page, server: Server, app: App, person: Person
) -> None:
    to_consent(tab, server, app, person)
    tab.get_by_role("button", name="Allow").click()

    expect(tab).to_have_url(on(app.rp.url, "/callback"))
    expect(tab.get_by_role("heading", name=f"Signed in as {person.username}")).to_be_visible()
    expect(tab.get_by_text(f"Your email address is {person.email}.")).to_be_visible()

    # What the app sent: a code request with PKCE S256 and a nonce.
    [sent] = app.rp.sent
    assert sent["response_type"] == "code"
    assert sent["client_id"] == app.client_id
    assert sent["code_challenge_method"] == "S256"
    assert sent["code_challenge"]
    assert sent["nonce"]
    assert sent["state"]
    # What came back: a code and the same state; Authlib then traded the code (with
    # the verifier) and verified the id_token.
    [received] = app.rp.received
    assert received["state"] == sent["state"]
    assert received["code"]
    assert "error" not in received
    [signed] = app.rp.signed_in
    claims, userinfo = signed["id_token"], signed["userinfo"]
    assert claims["sub"] == person.user_id
    assert claims["aud"] in (app.client_id, [app.client_id])
    assert claims["nonce"] == sent["nonce"]
    assert (claims["preferred_username"], claims["email"]) == (person.username, person.email)
    # The userinfo endpoint, called with the access token, says the same.
    assert userinfo["sub"] == person.user_id
    assert (userinfo["preferred_username"], userinfo["email"]) == (person.username, person.email)


def test_deny_sends_access_denied_and_the_state_back(
    tab: Page, server: Server, app: App, person: Person
) -> None:
    to_consent(tab, server, app, person)
    tab.get_by_role("button", name="Deny").click()

    expect(tab).to_have_url(on(app.rp.url, "/callback"))
    expect(tab.get_by_role("heading", name="Not signed in")).to_be_visible()
    [sent] = app.rp.sent
    [received] = app.rp.received
    assert received["error"] == "access_denied"
    assert received["state"] == sent["state"]
    assert "code" not in received
    assert app.rp.signed_in == []


def test_the_consent_page_carries_the_security_headers(
    tab: Page, server: Server, app: App, person: Person
) -> None:
    signed_in(tab, person)
    answer = tab.goto(f"{app.rp.url}/login")
    assert answer is not None
    expect(tab).to_have_url(on(server.url, "/oauth/authorize"))
    expect(tab.get_by_role("button", name="Allow")).to_be_visible()
    headers = answer.headers
    policy = {part.strip() for part in headers["content-security-policy"].split(";")}
    assert "frame-ancestors 'none'" in policy
    # The answer to its form redirects to the app: the page lets its form go there
    # (browsers apply form-action to the redirect), and nowhere else.
    [form_action] = [d.split()[1:] for d in policy if d.startswith("form-action ")]
    assert set(form_action) == {"'self'", app.rp.url}
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] in ("same-origin", "no-referrer")


def test_the_readme_example_app_signs_a_person_in(
    browsing: Browsing, services: Services, server: Server, person: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The README's "Sign in with tokend" app, exactly as written, in Chromium."""
    port = free_port()
    url = f"http://localhost:{port}"
    created = services.integrations.create("README app", redirect_uris=[f"{url}/callback"])
    for name, value in {
        "TOKEND_URL": server.url,
        "TOKEND_CLIENT_ID": created.integration.client_id,
        "TOKEND_CLIENT_SECRET": created.client_secret,
        "SESSION_SECRET": uuid.uuid4().hex,
    }.items():
        monkeypatch.setenv(name, value)
    namespace: dict[str, Any] = {}
    exec(compile(example("oauth.register("), "README.md", "exec"), namespace)  # noqa: S102
    browsing.guard.allow(url)
    tab = browsing.new_page()
    with serving(namespace["app"], port=port):
        tab.goto(url)
        tab.get_by_role("link", name="Sign in with tokend").click()
        tab.get_by_label("Username or email").fill(person.username)
        tab.get_by_label("Password", exact=True).fill(person.password)
        tab.get_by_role("button", name="Sign in").click()
        expect(tab.get_by_text("README app").first).to_be_visible()
        tab.get_by_role("button", name="Allow").click()
        expect(tab.get_by_text(f"Signed in as {person.username}")).to_be_visible()
