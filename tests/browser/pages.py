"""What a person does on the pages, by the names SPEC §9 gives them.

Every control is found by its accessible name (label, role and name), as a person
with a screen reader finds it: a renamed or unlabelled control fails the tests.
"""

import re
from dataclasses import dataclass

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Person


def sign_in(page: Page, login: str, password: str) -> None:
    """Fill and send the sign-in form; the caller checks where it leads."""
    page.goto("/login")
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def signed_in(page: Page, person: Person) -> None:
    sign_in(page, person.username, person.password)
    expect(page.get_by_role("heading", name="Tokens", exact=True)).to_be_visible()


@dataclass(frozen=True)
class NewToken:
    secret: str
    id: str


def create_token(
    page: Page, name: str, *, expiration: str | None = None, scope: str | None = None
) -> NewToken:
    """Create a token with the form of /tokens; the page must then show its secret."""
    if not page.url.endswith("/tokens"):
        page.goto("/tokens")
    page.get_by_label("Name", exact=True).fill(name)
    if expiration is not None:
        page.get_by_label("Expiration", exact=True).select_option(label=expiration)
    if scope is not None:
        # The option names the team; it may add the slug after the name.
        select = page.get_by_label("Scope", exact=True)
        option = select.locator("option", has_text=scope)
        select.select_option(value=option.get_attribute("value"))
    page.get_by_role("button", name="Create token").click()
    return shown_secret(page)


def shown_secret(page: Page) -> NewToken:
    """The one-time secret on the page, and the id of the token it belongs to."""
    secret_box = page.get_by_test_id("new-token-secret")
    expect(secret_box).to_be_visible()
    secret = secret_box.inner_text().strip()
    assert secret.startswith("tkd_"), secret
    token_id = bearer_get(page, secret, "/v5/user/tokens/current").json()["token"]["id"]
    return NewToken(secret, str(token_id))


def bearer_get(page: Page, secret: str, path: str) -> httpx.Response:
    """A request of a program holding the secret: the API, not the browser."""
    base = page.url.split("/", 3)
    with httpx.Client(base_url="/".join(base[:3]), timeout=30) as client:
        return client.get(path, headers={"Authorization": f"Bearer {secret}"})


def token_rows(page: Page) -> Locator:
    return page.get_by_test_id("token-row")


def token_row(page: Page, token_id: str) -> Locator:
    return page.locator(f'[data-testid="token-row"][data-token-id="{token_id}"]')


def page_secrets(page: Page) -> str:
    """All the page holds that a person could see or copy: its HTML, input values included."""
    values = page.evaluate(
        "() => Array.from(document.querySelectorAll('input, textarea'), e => e.value).join(' ')"
    )
    return page.content() + str(values)


def at(path: str) -> re.Pattern[str]:
    """A URL on ``path`` of the server, whatever query follows (``/login?next=...``)."""
    return re.compile(rf"^https?://[^/]+{re.escape(path)}(\?.*)?$")
