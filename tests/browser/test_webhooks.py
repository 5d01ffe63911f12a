"""The webhooks page in a browser: add one with the form (the signing secret shown
once, the Copy button putting it on the clipboard), and it is not shown again."""

from playwright.sync_api import expect

from tests.browser.conftest import Browsing, Person
from tests.browser.pages import at, page_secrets, signed_in

# A public address as a literal: no DNS needed; subscribed to leaks, never caused here.
URL = "https://1.1.1.1/browser"


def test_add_a_webhook_and_copy_its_secret_once(browsing: Browsing, person: Person) -> None:
    context = browsing.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    signed_in(page, person)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    expect(page).to_have_url(at("/webhooks"))
    page.get_by_label("URL", exact=True).fill(URL)
    page.get_by_label("A token is found leaked (and revoked)").check()
    page.get_by_role("button", name="Add webhook").click()

    box = page.get_by_test_id("new-webhook-secret")
    expect(box).to_be_visible()
    secret = box.inner_text().strip()
    assert secret.startswith("whsec_")
    assert page_secrets(page).count(secret) == 1
    assert secret not in page.url
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("status").filter(has_text="Copied")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == secret

    row = page.get_by_test_id("webhook-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(URL)
    expect(row).to_contain_text("active")
    row.get_by_role("link", name=URL).click()
    expect(page.get_by_role("heading", name=URL)).to_be_visible()
    assert secret not in page_secrets(page)
    page.goto("/webhooks")
    assert secret not in page_secrets(page)
