"""Signing in and out: ``/``, ``/login``, the session cookie, timeouts."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Server
from tests.web.conftest import Person
from tests.web.visitor import Visitor, cookie_flags, set_cookies


def test_the_start_page_sends_a_person_where_they_belong(
    visitor: Visitor, signed_in: Visitor
) -> None:
    assert visitor.http.get("/").headers["location"] == "/login"
    assert signed_in.http.get("/").headers["location"] == "/tokens"
    assert signed_in.http.get("/login").headers["location"] == "/tokens"


def test_the_login_page_names_its_fields(visitor: Visitor) -> None:
    page = visitor.get("/login")
    assert page.status == 200
    assert page.title == "Sign in · tokend"
    assert page.doc.labelled("Username or email").attrs["autocomplete"] == "username"
    assert page.doc.labelled("Password").attrs["type"] == "password"
    assert page.doc.button("Sign in").attrs["type"] == "submit"
    html = page.doc.one("html")
    assert html.attrs["lang"] == "en"
    assert html.one("a", href="#main").text == "Skip to content"
    assert html.one("main").attrs["id"] == "main"


def test_signing_in_goes_to_the_tokens_with_a_session_cookie(
    visitor: Visitor, person: Person
) -> None:
    answer = visitor.sign_in(person.username, person.password)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/tokens"
    cookies = set_cookies(answer)
    flags = cookie_flags(cookies["tokend_session"])
    assert {"httponly", "samesite=lax", "path=/"} <= flags
    assert "secure" not in flags  # http: a Secure cookie would never come back
    assert "tokend_csrf" in cookies  # the sign-in form's cookie, cleared
    page = visitor.get("/tokens")
    assert page.status == 200
    assert page.doc.one("h1").text == "Tokens"
    assert person.username in page.doc.one("header").text
    secret = visitor.http.cookies["tokend_session"]
    assert secret not in visitor.server.log_path.read_text()


def test_signing_in_with_the_email_works_too(visitor: Visitor, person: Person) -> None:
    answer = visitor.sign_in(f"{person.username}@localhost", person.password)
    assert answer.status_code == 303, answer.text


def test_wrong_password_and_unknown_user_get_the_same_message(
    visitor: Visitor, person: Person
) -> None:
    wrong = visitor.page(visitor.sign_in(person.username, "not the password at all"))
    unknown = visitor.page(visitor.sign_in("nobody-by-this-name", "not the password at all"))
    for page in (wrong, unknown):
        assert page.status == 400
        assert page.title == "Error: Sign in · tokend"
        alert = page.doc.one(role="alert")
        assert alert.text == "Incorrect username, email or password."
        # The message is tied to the fields it is about.
        assert alert.text in page.doc.labelled("Password").described_by()
        assert page.doc.labelled("Password").attrs.get("value") is None  # never echoed
    assert wrong.doc.labelled("Username or email").attrs["value"] == person.username
    assert visitor.http.get("/tokens").status_code == 303  # still not signed in


def test_an_account_locks_after_ten_failures(visitor: Visitor, person: Person) -> None:
    for _ in range(10):
        assert visitor.sign_in(person.username, "wrong password, again").status_code == 400
    locked = visitor.page(visitor.sign_in(person.username, person.password))
    assert locked.status == 429
    assert "Too many failed sign-ins for this account" in locked.doc.one(role="alert").text
    assert int(locked.response.headers["retry-after"]) > 0


def test_a_new_sign_in_ends_the_session_it_replaces(server: Server, person: Person) -> None:
    with Visitor(server) as browser:
        browser.sign_in(person.username, person.password)
        first = browser.http.cookies["tokend_session"]
        # The same browser signs in again (from a second tab's login form).
        page = browser.get("/login")  # redirects: signed in
        assert page.status == 303
        browser.http.cookies.set("tokend_csrf", "x" * 43)
        answer = browser.http.post(
            "/login",
            data={"csrf_token": "x" * 43, "login": person.username, "password": person.password},
        )
        assert answer.status_code == 303
        assert browser.http.cookies["tokend_session"] != first
    with Visitor(server) as old:
        old.http.cookies.set("tokend_session", first)
        assert old.http.get("/tokens").headers["location"].startswith("/login")


def test_signing_out_ends_the_session_on_the_server(signed_in: Visitor, server: Server) -> None:
    secret = signed_in.http.cookies["tokend_session"]
    page = signed_in.get("/account")
    answer = signed_in.submit(page, "Sign out")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    cleared = set_cookies(answer)["tokend_session"]
    assert "max-age=0" in cookie_flags(cleared)
    with Visitor(server) as replay:  # the old cookie, kept by someone: dead
        replay.http.cookies.set("tokend_session", secret)
        assert replay.http.get("/tokens").headers["location"] == "/login?ended=1"


def test_sign_in_returns_to_the_page_asked_for(visitor: Visitor, person: Person) -> None:
    asked = visitor.http.get("/events")
    assert asked.headers["location"] == "/login?next=/events"
    page = visitor.follow(asked)
    assert page.doc.one("input", name="next").attrs["value"] == "/events"
    answer = visitor.submit(
        page, "Sign in", {"Username or email": person.username, "Password": person.password}
    )
    assert answer.headers["location"] == "/events"


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_sign_in_never_goes_to_another_site(visitor: Visitor, person: Person, target: str) -> None:
    page = visitor.get("/login", params={"next": target})
    assert page.doc.one("input", name="next").attrs["value"] == "/tokens"
    answer = visitor.submit(
        page,
        "Sign in",
        {"Username or email": person.username, "Password": person.password},
        next=target,
    )
    assert answer.headers["location"] == "/tokens"


@pytest.fixture(scope="module")
def https_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose public URL is https (behind a TLS proxy), sessions idle 2 s."""
    env = {
        "TOKEND_PUBLIC_URL": "https://tokend.example",
        "TOKEND_SESSION_IDLE_S": "2",
        "TOKEND_RATE_LIMIT_FAILURES": "1000000000",
    }
    log: Path = tmp_path_factory.mktemp("https") / "tokend.log"
    with Server(database_url=database_url, log_path=log, env=env) as running:
        yield running


def _sign_in_behind_tls(server: Server, person: Person) -> tuple[str, str]:
    """Sign in as a browser would over https (httpx keeps Secure cookies for https
    only, so they are sent by hand here); the Set-Cookie line and the secret."""
    with Visitor(server) as browser:
        login = browser.get("/login")
        line = set_cookies(login.response)["__Host-tokend_csrf"]
        assert {"secure", "httponly", "path=/", "samesite=lax"} <= cookie_flags(line)
        csrf = line.split(";")[0]
        answer = browser.http.post(
            "/login",
            data={"csrf_token": csrf, "login": person.username, "password": person.password},
            headers={"Cookie": f"__Host-tokend_csrf={csrf}", "Origin": "https://tokend.example"},
        )
    assert answer.status_code == 303, answer.text
    session = set_cookies(answer)["__Host-tokend_session"]
    return session, session.split(";")[0]


def test_under_https_the_cookie_is_host_only_and_secure(
    https_server: Server, person: Person
) -> None:
    line, _secret = _sign_in_behind_tls(https_server, person)
    flags = cookie_flags(line)
    assert {"secure", "httponly", "path=/", "samesite=lax"} <= flags
    assert not any(flag.startswith("domain") for flag in flags)


def test_an_idle_session_ends(https_server: Server, person: Person) -> None:
    _line, secret = _sign_in_behind_tls(https_server, person)
    cookie = {"Cookie": f"__Host-tokend_session={secret}"}
    with Visitor(https_server) as browser:
        assert browser.http.get("/tokens", headers=cookie).status_code == 200
        time.sleep(2.5)
        ended = browser.http.get("/tokens", headers=cookie)
        assert ended.status_code == 303
        assert ended.headers["location"] == "/login?ended=1"
        assert "__Host-tokend_session" in set_cookies(ended)  # cleared
        page = browser.get("/login?ended=1")
        assert "Your session has ended" in page.doc.one(role="status").text
