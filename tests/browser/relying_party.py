"""A relying party: a small web app that offers "Sign in with tokend", built the way
an app developer builds one, with Authlib's Starlette client configured from tokend's
discovery document (authorization code flow, PKCE S256, nonce). Authlib checks the
state, sends the verifier, and verifies the id_token against ``jwks_uri`` itself:
nothing of tokend's own code is involved on this side.

The app records what reached its callback, so a test can compare it with what the
app sent."""

import html
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from authlib.integrations.starlette_client import OAuth
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tests.support import free_port, serving

# The RP is another site than tokend (127.0.0.1): its cookies, and tokend's, cross
# sites as they do in real life.
RP_HOST = "localhost"


@dataclass
class RelyingParty:
    """The app, its address, and what its /login sent and its /callback received."""

    port: int = field(default_factory=free_port)
    oauth: OAuth | None = None
    sent: list[dict[str, str]] = field(default_factory=list)
    received: list[dict[str, str]] = field(default_factory=list)
    signed_in: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{RP_HOST}:{self.port}"

    @property
    def redirect_uri(self) -> str:
        return f"{self.url}/callback"

    def register(self, *, discovery_url: str, client_id: str, client_secret: str) -> None:
        oauth = OAuth()
        oauth.register(
            "tokend",
            client_id=client_id,
            client_secret=client_secret,
            server_metadata_url=discovery_url,
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
        )
        self.oauth = oauth

    async def login(self, request: Request) -> Response:
        assert self.oauth is not None, "register the client first"
        response: Response = await self.oauth.tokend.authorize_redirect(request, self.redirect_uri)
        location = urlsplit(response.headers["location"])
        self.sent.append({k: v[0] for k, v in parse_qs(location.query).items()})
        return response

    async def callback(self, request: Request) -> Response:
        assert self.oauth is not None, "register the client first"
        self.received.append(dict(request.query_params))
        if "error" in request.query_params:
            return page("Not signed in", f"tokend said: {request.query_params['error']}")
        token = await self.oauth.tokend.authorize_access_token(request)
        if "userinfo" not in token:
            return page("Not signed in", "no id_token came back", status=502)
        userinfo = await self.oauth.tokend.userinfo(token=token)
        self.signed_in.append({"id_token": dict(token["userinfo"]), "userinfo": dict(userinfo)})
        claims = token["userinfo"]
        return page(
            f"Signed in as {claims['preferred_username']}",
            f"Your email address is {claims['email']}.",
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/login", self.login), Route("/callback", self.callback)],
            # The session holds Authlib's state, nonce and PKCE verifier between the
            # two requests, as in any Starlette app using Authlib.
            middleware=[Middleware(SessionMiddleware, secret_key="relying-party-test-key")],
        )

    @contextmanager
    def running(self) -> Iterator["RelyingParty"]:
        with serving(self.app(), port=self.port):
            yield self


def page(heading: str, text: str, *, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><title>Example app</title><h1>{html.escape(heading)}</h1>"
        f"<p>{html.escape(text)}</p>",
        status_code=status,
    )
