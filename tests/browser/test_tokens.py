"""The tokens page: create (the secret shown once, with a Copy button), use the secret
on the API, rotate, revoke with confirmation, team scope."""

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.browser.conftest import Browsing, Person
from tests.browser.pages import (
    at,
    bearer_get,
    create_token,
    page_secrets,
    shown_secret,
    signed_in,
    token_row,
)
from tests.support import Server
from tokend.bootstrap import Services

SHOWN_ONCE = re.compile(r"(not|n't) be shown again", re.IGNORECASE)


def test_a_token_created_on_the_page_works_on_the_api(page: Page, person: Person) -> None:
    signed_in(page, person)
    created = create_token(page, "deploy from CI", expiration="30 days")

    response = bearer_get(page, created.secret, "/v2/user")
    assert response.status_code == 200
    assert response.json()["user"]["username"] == person.username
    expect(page.get_by_text(SHOWN_ONCE)).to_be_visible()

    # The list shows it: name, the secret's ends only, and its expiry in words.
    page.goto("/tokens")
    row = token_row(page, created.id)
    expect(row).to_contain_text("deploy from CI")
    expect(row).to_contain_text(f"tkd_…{created.secret[-4:]}")
    expect(row).to_contain_text(re.compile(r"in (29|30) days"))
    assert created.secret not in row.inner_html()


def test_the_secret_appears_exactly_once(page: Page, person: Person, server: Server) -> None:
    signed_in(page, person)
    created = create_token(page, "shown once")
    # Once on the page that answers the create: in its box, nowhere else (no hidden
    # copy in an input or an attribute), and not in the URL.
    assert page_secrets(page).count(created.secret) == 1
    assert created.secret not in page.url

    # Not after a reload: the page is the answer to the POST, which a reload sends
    # again (a person's browser asks first; Playwright's does not). Whatever that
    # answer is, it does not hold the secret already shown.
    page.reload()
    assert created.secret not in page_secrets(page)

    # ... nor after going elsewhere and coming back: the answer was not stored
    # (Cache-Control: no-store), so Chromium has nothing to show.
    page.goto("/tokens")
    second = create_token(page, "shown once, again")
    page.goto("/events")
    with pytest.raises(PlaywrightError, match="ERR_CACHE_MISS"):
        page.go_back()
    page.wait_for_url("chrome-error://**")  # "Confirm Form Resubmission"
    assert second.secret not in page_secrets(page)
    page.goto("/tokens")
    assert second.secret not in page_secrets(page)
    assert created.secret not in page_secrets(page)

    # ... nor in the browser's storage, nor in the server's log.
    stored = page.evaluate("() => JSON.stringify([localStorage, sessionStorage])")
    assert created.secret not in stored
    log = server.log_path.read_text(errors="replace")
    assert created.secret not in log
    assert second.secret not in log


def test_copy_puts_the_secret_on_the_clipboard(browsing: Browsing, person: Person) -> None:
    context = browsing.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    signed_in(page, person)
    created = create_token(page, "copied")
    page.get_by_role("button", name="Copy").click()
    # The person hears (a status message) and sees that it worked.
    expect(page.get_by_role("status").filter(has_text="Copied")).to_be_visible()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == created.secret


def test_everything_but_copy_works_without_javascript(browsing: Browsing, person: Person) -> None:
    page = browsing.new_page(java_script_enabled=False)
    signed_in(page, person)
    created = create_token(page, "no script")
    assert bearer_get(page, created.secret, "/v2/user").status_code == 200
    # Copy needs a script: without one it is not offered; the secret can be selected.
    expect(page.get_by_role("button", name="Copy")).to_be_hidden()

    page.goto("/tokens")
    token_row(page, created.id).get_by_role("button", name="Rotate").click()
    rotated = shown_secret(page)
    page.goto("/tokens")
    token_row(page, rotated.id).get_by_role("button", name="Revoke").click()
    page.get_by_role("button", name="Revoke token").click()
    expect(token_row(page, rotated.id)).to_have_count(0)
    assert bearer_get(page, rotated.secret, "/v2/user").status_code == 401

    page.goto("/account")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(at("/login"))


def test_rotate_gives_a_new_secret_and_ends_the_old_one(page: Page, person: Person) -> None:
    signed_in(page, person)
    old = create_token(page, "rotated")
    page.goto("/tokens")
    token_row(page, old.id).get_by_role("button", name="Rotate").click()
    new = shown_secret(page)
    assert new.secret != old.secret
    assert bearer_get(page, new.secret, "/v2/user").status_code == 200
    assert bearer_get(page, old.secret, "/v2/user").status_code == 401

    page.goto("/tokens")
    expect(token_row(page, old.id)).to_have_count(0)
    expect(token_row(page, new.id)).to_contain_text("rotated")


def test_revoke_asks_for_confirmation_then_the_token_is_gone(page: Page, person: Person) -> None:
    signed_in(page, person)
    created = create_token(page, "revoked")
    page.goto("/tokens")
    token_row(page, created.id).get_by_role("button", name="Revoke").click()

    # Nothing is revoked until the person confirms.
    confirm = page.get_by_role("button", name="Revoke token")
    expect(confirm).to_be_visible()
    assert bearer_get(page, created.secret, "/v2/user").status_code == 200
    confirm.click()

    expect(page.get_by_role("heading", name="Tokens", exact=True)).to_be_visible()
    expect(token_row(page, created.id)).to_have_count(0)
    assert bearer_get(page, created.secret, "/v2/user").status_code == 401


def test_a_team_token_is_made_for_the_team_chosen(
    page: Page, person: Person, services: Services, make_person: Callable[..., Person]
) -> None:
    # The person is a member of a team someone else made, not its owner.
    slug = f"acme-{uuid.uuid4().hex[:8]}"
    owner = make_person("owner")
    team = services.admin.create_team(slug, owner=owner.username, name=f"Acme {slug[-4:]}")
    services.admin.add_member(slug, person.username)

    signed_in(page, person)
    created = create_token(page, "team deploys", scope=team.name)
    token = bearer_get(page, created.secret, f"/v5/user/tokens/{created.id}").json()["token"]
    assert [scope["teamId"] for scope in token["scopes"]] == [team.id]
    page.goto("/tokens")
    expect(token_row(page, created.id)).to_contain_text(team.name)
