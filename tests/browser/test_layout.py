"""Usable with the keyboard alone, and on a phone."""

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Browsing, Person
from tests.browser.pages import create_token, shown_secret, signed_in

PHONE = {"width": 360, "height": 740}
MAX_TABS = 40


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until ``target`` has the focus, as a keyboard user moves through a page;
    the focused control must show that it is (a visible focus indicator)."""
    handle = target.element_handle()
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("element => element === document.activeElement", handle):
            shown = page.evaluate(
                """element => { const style = getComputedStyle(element);
                return (style.outlineStyle !== 'none' && style.outlineWidth !== '0px')
                    || style.boxShadow !== 'none'; }""",
                handle,
            )
            assert shown, "the focused control shows no focus indicator"
            return
    raise AssertionError(f"{target} cannot be reached with Tab")


def test_sign_in_and_create_a_token_with_the_keyboard_alone(page: Page, person: Person) -> None:
    page.goto("/login")
    tab_to(page, page.get_by_label("Username or email"))
    page.keyboard.type(person.username)
    page.keyboard.press("Tab")
    page.keyboard.type(person.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Tokens", exact=True)).to_be_visible()

    tab_to(page, page.get_by_label("Name", exact=True))
    page.keyboard.type("typed, not clicked")
    tab_to(page, page.get_by_label("Expiration", exact=True))
    page.keyboard.press("ArrowDown")
    tab_to(page, page.get_by_role("button", name="Create token"))
    page.keyboard.press("Enter")
    created = shown_secret(page)

    # Copy and the other controls after it are reachable too.
    tab_to(page, page.get_by_role("button", name="Copy"))
    page.goto("/tokens")
    tab_to(page, page.get_by_role("button", name="Revoke").first)
    assert created.secret


def scrolls_sideways(page: Page, path: str) -> str | None:
    page.goto(path)
    content, screen = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    return f"{path} is {content} px wide on a {screen} px screen" if content > screen else None


def test_no_page_scrolls_sideways_on_a_phone(browsing: Browsing, person: Person) -> None:
    page = browsing.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    signed_in(page, person)
    for name in ("deploy-production-eu-west-1-kubernetes", "laptop", "CI"):
        create_token(page, name, expiration="90 days")
    with httpx.Client(base_url=page.url.split("/tokens")[0], timeout=30) as api:
        added = api.post(
            "/v1/webhooks",
            headers={"Authorization": f"Bearer {person.token}"},
            json={
                "url": "https://1.1.1.1/" + "a-long-path-segment/" * 8,
                "events": ["token.leaked"],
            },
        )
    assert added.status_code == 200, added.text
    hook = added.json()["webhook"]["id"]
    paths = ("/tokens", "/webhooks", f"/webhooks/{hook}", "/events", "/account", "/device")
    too_wide = [scrolls_sideways(page, path) for path in paths]
    page.context.clear_cookies()
    too_wide.append(scrolls_sideways(page, "/login"))
    assert not any(too_wide), too_wide


def test_the_new_secret_fits_a_phone_screen(browsing: Browsing, person: Person) -> None:
    page = browsing.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    signed_in(page, person)
    create_token(page, "phone")
    box = page.get_by_test_id("new-token-secret").bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    copy = page.get_by_role("button", name="Copy").bounding_box()
    assert copy is not None
    assert copy["x"] + copy["width"] <= PHONE["width"]
