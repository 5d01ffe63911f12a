"""The events page: the person's audit log, newest first."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Person
from tests.browser.pages import create_token, signed_in, token_row


def test_the_events_page_shows_what_the_person_did_newest_first(page: Page, person: Person) -> None:
    signed_in(page, person)
    created = create_token(page, "audited token")
    page.goto("/tokens")
    token_row(page, created.id).get_by_role("button", name="Revoke").click()
    page.get_by_role("button", name="Revoke token").click()
    expect(token_row(page, created.id)).to_have_count(0)

    page.goto("/events")
    expect(page.get_by_role("heading", name="Events").first).to_be_visible()
    rows = page.get_by_role("row").filter(has_text="audited token")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(re.compile("revoked", re.IGNORECASE))
    expect(rows.nth(1)).to_contain_text(re.compile("created", re.IGNORECASE))
    # The sign-in is there too, older than both.
    signed = page.get_by_role("row").filter(has_text=re.compile("signed in", re.IGNORECASE))
    expect(signed.first).to_be_visible()
