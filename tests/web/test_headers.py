"""Every HTML answer carries the security headers of §9 (the pages, their error
pages, /docs); our static files are served under hashed names, and nothing else."""

import re
from collections.abc import Callable

import httpx
import pytest

from tests.support import Server
from tests.web.conftest import Person
from tests.web.html import parse
from tests.web.visitor import Visitor
from tokend.bootstrap import Services

DIRECTIVES = {
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
}


def assert_secured(response: httpx.Response, where: str) -> None:
    headers = response.headers
    assert headers["content-type"].startswith("text/html"), where
    policy = {part.strip() for part in headers["content-security-policy"].split(";")}
    assert policy == DIRECTIVES, where
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff", where
    assert headers["referrer-policy"] in ("same-origin", "no-referrer"), where
    assert headers["cache-control"] == "no-store", where


def test_every_page_and_error_page(
    signed_in: Visitor, visitor: Visitor, services: Services, person: Person
) -> None:
    invite = services.accounts.invite(person.username).code
    anonymous = [
        ("/login", 200),
        (f"/invite/{invite}", 200),
        ("/invite/not-a-code", 404),
        ("/docs", 200),
    ]
    for path, status in anonymous:
        answer = visitor.http.get(path)
        assert answer.status_code == status, path
        assert_secured(answer, path)
    signed = [
        ("/tokens", 200),
        ("/events", 200),
        ("/account", 200),
        ("/device", 200),
        ("/device?user_code=BCDF-GHJK", 400),
        ("/tokens/NoSuchTokenNoSuchToken00/revoke", 404),
        ("/webhooks", 200),
        ("/webhooks/wh_nosuchwebhook", 404),
        ("/webhooks/wh_nosuchwebhook/delete", 404),
    ]
    for path, status in signed:
        answer = signed_in.http.get(path)
        assert answer.status_code == status, path
        assert_secured(answer, path)
        title = parse(answer.text).one("title").text
        assert title.endswith(" · tokend"), title
    refused = signed_in.http.post("/tokens", data={"name": "x"})
    assert refused.status_code == 403
    assert_secured(refused, "403")
    created = signed_in.submit(signed_in.get("/tokens"), "Create token", {"Name": "headers"})
    assert created.status_code == 201
    assert_secured(created, "the page with a secret")


def test_pages_load_only_our_own_files(signed_in: Visitor) -> None:
    page = signed_in.get("/tokens")
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]", page.html, re.IGNORECASE)
    assert not page.doc.all("script", src="") or all(
        s.attrs["src"].startswith("/static/") for s in page.doc.all("script")
    )
    assert all(not s.text.strip() for s in page.doc.all("script"))  # no inline script
    assert not page.doc.all("style")
    assert not [e for e in page.doc.all() if "style" in e.attrs]
    assert not [e for e in page.doc.all() if any(a.startswith("on") for a in e.attrs)]
    files = [link.attrs["href"] for link in page.doc.all("link")]
    files += [script.attrs["src"] for script in page.doc.all("script")]
    assert len(files) == 3
    for url in files:
        assert re.fullmatch(r"/static/[a-z]+\.[0-9a-f]{12}\.(css|js|svg)", url), url
        answer = signed_in.http.get(url)
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/static/tokend.css",  # a file, but not under its hashed name
        "/static/tokend.000000000000.css",
        "/static/..%2F__init__.py",
        "/static/../web/__init__.py",
        "/static/%2e%2e/templates.py",
        "/static/",
    ],
)
def test_nothing_else_is_served_as_static(server: Server, path: str) -> None:
    with server.client() as http:
        answer = http.get(path)
    assert answer.status_code == 404
    assert "tokend" not in answer.text.lower() or "not found" in answer.text.lower()


def test_error_pages_name_no_secret(signed_in: Visitor, make_person: Callable[..., Person]) -> None:
    pasted = make_person("pasted").account.token  # a secret pasted where an id goes
    answer = signed_in.http.get(f"/tokens/{pasted}/revoke")
    assert answer.status_code == 404
    assert pasted not in answer.text
