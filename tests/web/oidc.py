"""Helpers of the "Sign in with tokend" tests: register an integration, walk a signed-in
browser through /oauth/authorize and its consent page, read the redirect."""

import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.web.visitor import Visitor
from tokend.bootstrap import Services

REDIRECT_URI = "http://127.0.0.1:9/callback"


@dataclass(frozen=True)
class App:
    client_id: str
    client_secret: str
    redirect_uri: str
    name: str


def register(services: Services, name: str = "Example App", *uris: str) -> App:
    made = services.integrations.create(name, redirect_uris=list(uris or (REDIRECT_URI,)))
    integration = made.integration
    return App(integration.client_id, made.client_secret, integration.redirect_uris[0], name)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(app: App, **params: str) -> str:
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": app.redirect_uri,
        "scope": "openid email profile",
        "state": "state-123",
        **params,
    }
    return "/oauth/authorize?" + urlencode({k: v for k, v in query.items() if v != ""})


def consent(browser: Visitor, app: App, decision: str = "Allow", **params: str) -> httpx.Response:
    """The answer to the consent form (a 303 to the app)."""
    page = browser.get(authorize_url(app, **params))
    assert page.status == 200, (page.status, page.html[:500])
    return browser.submit(page, decision)


def redirect_params(response: httpx.Response, app: App | None = None) -> dict[str, str]:
    assert response.status_code == 303, (response.status_code, response.text[:300])
    location = response.headers["location"]
    if app is not None:
        assert location.startswith(app.redirect_uri + "?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def code_for(browser: Visitor, app: App, **params: str) -> str:
    return redirect_params(consent(browser, app, **params), app)["code"]


def exchange(
    url: str, app: App, body: Mapping[str, str], *, as_json: bool = False, basic: bool = False
) -> httpx.Response:
    sent = dict(body)
    auth = None
    if basic:
        auth = (app.client_id, app.client_secret)
    else:
        sent.setdefault("client_id", app.client_id)
        sent.setdefault("client_secret", app.client_secret)
    target = f"{url}/v1/integrations/sso/token"
    if as_json:
        return httpx.post(target, json=sent, auth=auth, timeout=30)
    return httpx.post(target, data=sent, auth=auth, timeout=30)
