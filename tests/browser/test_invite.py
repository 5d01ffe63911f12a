"""The invite link: a new person chooses a password and lands signed in."""

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import Browsing, Person
from tests.browser.pages import at, sign_in
from tokend.bootstrap import Services


def choose_password(page: Page, password: str) -> None:
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("Confirm new password").fill(password)
    page.get_by_role("button", name="Set password and sign in").click()


def test_an_invited_person_chooses_a_password_and_is_signed_in(
    browsing: Browsing, services: Services, make_person: Callable[..., Person]
) -> None:
    newcomer = make_person("newcomer")
    invite = services.accounts.invite(newcomer.username)
    # The link `tokend admin invite` prints, on the server's public URL.
    link = f"{browsing.server.url}/invite/{invite.code}"

    page = browsing.new_page()
    page.goto(link)
    expect(page.get_by_text(newcomer.username).first).to_be_visible()
    choose_password(page, "a password of my own")
    expect(page).to_have_url(at("/tokens"))
    expect(page.get_by_role("heading", name="Tokens", exact=True)).to_be_visible()
    assert invite.code not in page.url

    # The link works once; the password chosen is the one that signs in from now on.
    again = browsing.new_page()
    again.goto(link)
    expect(again.get_by_role("heading", name="Invite not valid")).to_be_visible()
    expect(again.get_by_label("New password", exact=True)).to_have_count(0)
    sign_in(again, newcomer.username, "a password of my own")
    expect(again).to_have_url(at("/tokens"))


def test_a_weak_password_is_refused_next_to_its_field(
    page: Page, services: Services, make_person: Callable[..., Person]
) -> None:
    newcomer = make_person("newcomer")
    invite = services.accounts.invite(newcomer.username)
    page.goto(f"/invite/{invite.code}")
    choose_password(page, "short")
    field = page.get_by_label("New password", exact=True)
    described_by = field.get_attribute("aria-describedby")
    assert described_by, "the error is not tied to the password field"
    expect(page.locator(f"[id='{described_by.split()[0]}']")).to_contain_text("10")
    # The invite is not spent by a refused password.
    choose_password(page, "long enough this time")
    expect(page).to_have_url(at("/tokens"))
