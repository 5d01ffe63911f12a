"""The account page: profile, password change (which ends the other sessions), the
list of sessions, each of which can be ended."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import Browsing, Person
from tests.browser.pages import at, sign_in, signed_in


def is_signed_out(page: Page) -> bool:
    page.goto("/tokens")
    return "/login" in page.url


def test_the_account_page_shows_who_is_signed_in(page: Page, person: Person) -> None:
    signed_in(page, person)
    page.goto("/account")
    expect(page.get_by_text(person.username).first).to_be_visible()
    expect(page.get_by_text(person.email).first).to_be_visible()
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_changing_the_password_ends_the_other_sessions(browsing: Browsing, person: Person) -> None:
    here, elsewhere = browsing.new_page(), browsing.new_page()
    signed_in(here, person)
    signed_in(elsewhere, person)

    new_password = f"{person.password} and more"
    here.goto("/account")
    here.get_by_label("Current password").fill(person.password)
    here.get_by_label("New password", exact=True).fill(new_password)
    here.get_by_label("Confirm new password").fill(new_password)
    here.get_by_role("button", name="Change password").click()
    expect(here.get_by_role("status").or_(here.get_by_role("alert")).first).to_be_visible()

    assert is_signed_out(elsewhere)
    assert not is_signed_out(here)

    # The old password is refused, the new one works.
    stranger = browsing.new_page()
    sign_in(stranger, person.username, person.password)
    expect(stranger.get_by_role("alert")).to_be_visible()
    sign_in(stranger, person.username, new_password)
    expect(stranger).to_have_url(at("/tokens"))


def test_a_wrong_current_password_changes_nothing(browsing: Browsing, person: Person) -> None:
    here, elsewhere = browsing.new_page(), browsing.new_page()
    signed_in(here, person)
    signed_in(elsewhere, person)
    here.goto("/account")
    here.get_by_label("Current password").fill("not the password at all")
    here.get_by_label("New password", exact=True).fill("a brand new passphrase")
    here.get_by_label("Confirm new password").fill("a brand new passphrase")
    here.get_by_role("button", name="Change password").click()

    # The error sits by the field it concerns.
    field = here.get_by_label("Current password")
    described_by = field.get_attribute("aria-describedby")
    assert described_by, "the error is not tied to the Current password field"
    expect(here.locator(f"[id='{described_by.split()[0]}']")).not_to_be_empty()
    assert not is_signed_out(elsewhere)
    sign_in(browsing.new_page(), person.username, person.password)


def test_a_session_ended_on_the_account_page_is_signed_out(
    browsing: Browsing, person: Person
) -> None:
    here = browsing.new_page(user_agent="tokend-test here")
    elsewhere = browsing.new_page(user_agent="tokend-test elsewhere")
    signed_in(here, person)
    signed_in(elsewhere, person)

    here.goto("/account")
    sessions = here.get_by_test_id("session-row")
    expect(sessions).to_have_count(2)
    other = sessions.filter(has_text="elsewhere")
    expect(other).to_have_count(1)
    other.get_by_role("button", name="End session").click()

    expect(here.get_by_test_id("session-row")).to_have_count(1)
    assert is_signed_out(elsewhere)
    assert not is_signed_out(here)
