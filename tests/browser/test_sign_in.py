"""Signing in and out, the one message for a wrong name or password, the account lock,
and the session cookie as the browser keeps it."""

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from playwright.sync_api import Page, expect

from tests.browser.conftest import Browsing, Person, origin_of
from tests.browser.pages import at, sign_in, signed_in
from tests.support import Server

ACCOUNT_FAILURE_LIMIT = 10  # SPEC §9: 10 failures per account in 15 minutes


def alert_text(page: Page) -> str:
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    return alert.inner_text().strip()


def test_the_root_sends_a_stranger_to_sign_in_and_a_person_to_their_tokens(
    page: Page, person: Person
) -> None:
    page.goto("/")
    expect(page).to_have_url(at("/login"))
    signed_in(page, person)
    page.goto("/")
    expect(page).to_have_url(at("/tokens"))


def test_a_person_signs_in_with_their_username_or_their_email(
    browsing: Browsing, person: Person
) -> None:
    for login in (person.username, person.email.upper()):
        page = browsing.new_page()
        sign_in(page, login, person.password)
        expect(page).to_have_url(at("/tokens"))
        expect(page.get_by_role("heading", name="Tokens", exact=True)).to_be_visible()
        expect(page.get_by_text(person.username).first).to_be_visible()


def test_a_wrong_password_and_an_unknown_user_get_the_same_message(
    page: Page, person: Person
) -> None:
    sign_in(page, person.username, "not the password at all")
    wrong_password = alert_text(page)
    expect(page.get_by_role("heading", name="Tokens")).to_have_count(0)
    # The name typed stays in its field, the password does not.
    expect(page.get_by_label("Username or email")).to_have_value(person.username)
    expect(page.get_by_label("Password", exact=True)).to_have_value("")

    sign_in(page, f"nobody-{person.username}", "not the password at all")
    unknown_user = alert_text(page)
    assert wrong_password == unknown_user
    assert person.username not in wrong_password


def test_ten_wrong_passwords_lock_the_account_even_against_the_right_one(
    page: Page, person: Person, make_person: Callable[..., Person]
) -> None:
    for _ in range(ACCOUNT_FAILURE_LIMIT):
        sign_in(page, person.username, "not the password at all")
        assert "Too many" not in alert_text(page)
    sign_in(page, person.username, person.password)
    message = alert_text(page)
    assert "Too many failed sign-ins" in message, message
    assert "minute" in message
    expect(page.get_by_role("heading", name="Tokens")).to_have_count(0)
    # The lock is the account's, whichever of its names is typed ...
    sign_in(page, person.email, person.password)
    assert "Too many failed sign-ins" in alert_text(page)
    # ... and its tokens keep working.
    response = page.request.get("/v2/user", headers={"Authorization": f"Bearer {person.token}"})
    assert response.status == 200
    # Another account, from the same browser and address, is not locked.
    signed_in(page, make_person("other"))


def test_the_session_cookie_carries_the_flags_of_the_spec(page: Page, person: Person) -> None:
    signed_in(page, person)
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    # Served over http: the cookie without the __Host- prefix and without Secure.
    session = cookies["tokend_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Lax"
    assert session["path"] == "/"
    assert session["secure"] is False
    # HttpOnly, seen from the page's scripts: they cannot read it.
    assert "tokend_session" not in page.evaluate("document.cookie")


def test_sign_out_ends_the_session(browsing: Browsing, person: Person) -> None:
    page = browsing.new_page()
    signed_in(page, person)
    session = next(c for c in page.context.cookies() if c["name"] == "tokend_session")
    page.goto("/account")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(at("/login"))
    page.goto("/tokens")
    expect(page).to_have_url(at("/login"))

    # The old cookie, replayed by another browser, is worth nothing: the session
    # ended on the server, not only in this browser.
    replay = browsing.new_context()
    replay.add_cookies(
        [{"name": session["name"], "value": session["value"], "url": browsing.server.url}]
    )
    again = replay.new_page()
    again.goto("/tokens")
    expect(again).to_have_url(at("/login"))


OTHER_SITES = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "/%5Cevil.example/",
    "\\/evil.example/",
    "javascript:alert(1)",
]


def test_sign_in_never_sends_the_person_to_another_site(
    page: Page, person: Person, server: Server
) -> None:
    """`next` brings a person back to the page they asked for, on this site only: a
    link to /login?next=... must not become a springboard to a look-alike site. (A
    navigation elsewhere would also be caught as a request to another origin.)"""

    def stays_here(target: str) -> None:
        expect(page).not_to_have_url(at("/login"))
        page.wait_for_load_state()
        # Home, or a page of this site (/%5Cevil.example/ is a path here, not a host).
        assert origin_of(page.url) == origin_of(server.url), (target, page.url)
        assert "evil.example" not in urlsplit(page.url).netloc, (target, page.url)

    # Through the form ...
    page.goto("/login?" + urlencode({"next": OTHER_SITES[0]}))
    page.get_by_label("Username or email").fill(person.username)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    stays_here(OTHER_SITES[0])
    # ... and, signed in already, straight from the link.
    for target in OTHER_SITES:
        page.goto("/login?" + urlencode({"next": target}))
        stays_here(target)
    page.goto("/login?next=/events")
    expect(page).to_have_url(at("/events"))
