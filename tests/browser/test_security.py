"""What only a browser shows: no request to another origin from any page, a CSP that
really blocks inline script, token names rendered as text, forged forms refused."""

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, Response, expect
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import Browsing, Person, origin_of
from tests.browser.foreign import foreign_site
from tests.browser.pages import create_token, signed_in, token_row
from tests.support import Server
from tokend.bootstrap import Services

# Sources a script may come from: tokend itself, or a script tokend vouched for.
SAFE_SCRIPT_SOURCES = ("'self'", "'none'", "'nonce-", "'sha256-", "'sha384-", "'sha512-")


def policy(response: Response) -> dict[str, list[str]]:
    """The Content-Security-Policy of a response, directive -> sources."""
    header = response.headers.get("content-security-policy")
    assert header, f"no Content-Security-Policy on {response.url}"
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives.setdefault(words[0].lower(), [w.lower() for w in words[1:]])
    return directives


def check_html_answer(response: Response | None) -> None:
    """The headers SPEC §9 puts on every HTML answer."""
    assert response is not None
    assert response.status == 200, f"{response.url}: {response.status}"
    assert response.headers["content-type"].startswith("text/html")
    csp = policy(response)
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts is not None, f"{response.url}: the CSP leaves scripts unrestricted"
    for directive in ("script-src", "script-src-elem", "script-src-attr", "default-src"):
        for source in csp.get(directive, []):
            assert source.startswith(SAFE_SCRIPT_SOURCES), (response.url, directive, source)
    assert csp.get("frame-ancestors") == ["'none'"], response.url
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers.get("referrer-policy"), response.url
    assert "no-store" in response.headers["cache-control"], response.url


def test_no_page_asks_another_origin_for_anything(
    browsing: Browsing, person: Person, services: Services, make_person: Callable[..., Person]
) -> None:
    """The browsing fixture refuses and reports every request to another origin; this
    test opens every page a person uses, so that each of them is looked at."""
    page = browsing.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))

    check_html_answer(page.goto("/login"))
    signed_in(page, person)
    create_token(page, "looked at")
    for path in ("/tokens", "/events", "/account", "/device"):
        check_html_answer(page.goto(path))
        page.wait_for_load_state("networkidle")

    check_html_answer(page.goto("/docs"))
    # Swagger UI draws the operations with its own script: it ran, under the CSP.
    expect(page.get_by_text("Create an auth token").first).to_be_visible()

    invited = make_person("invited")
    invite = services.accounts.invite(invited.username)
    stranger = browsing.new_page()
    stranger.on("request", lambda request: asked.append(request.url))
    check_html_answer(stranger.goto(f"/invite/{invite.code}"))
    stranger.wait_for_load_state("networkidle")

    # The hook saw the pages' own style and script, all from the server itself.
    server_origin = origin_of(page.url)
    assert any(url.endswith(".css") or ".css?" in url for url in asked), asked
    assert all(origin_of(url) == server_origin for url in asked if url.startswith("http"))
    assert not browsing.guard.foreign, browsing.guard.foreign


INJECT_INLINE = """() => new Promise(resolve => {
    document.addEventListener('securitypolicyviolation',
        event => resolve(event.effectiveDirective), {once: true});
    const script = document.createElement('script');
    script.textContent = 'window.__inlineRan = true';
    document.head.appendChild(script);
    setTimeout(() => resolve(null), 2000);
})"""


def test_the_policy_really_blocks_inline_script(page: Page, person: Person) -> None:
    signed_in(page, person)
    response = page.goto("/tokens")
    check_html_answer(response)

    blocked = page.evaluate(INJECT_INLINE)
    assert blocked is not None, "no CSP violation reported for an inline script"
    assert blocked.startswith("script-src"), blocked
    assert page.evaluate("() => window.__inlineRan") is None

    with pytest.raises(PlaywrightError, match="violates the following Content Security Policy"):
        page.add_script_tag(content="window.__tagRan = true")
    assert page.evaluate("() => window.__tagRan") is None

    # Nor an inline event handler, the way an injected <img onerror> would run.
    page.evaluate(
        """() => { const img = document.createElement('img');
        img.setAttribute('onerror', 'window.__handlerRan = true');
        img.src = '/no-such-image'; document.body.appendChild(img); }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__handlerRan") is None


XSS_NAMES = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    '"><svg onload=alert(3)>',
    "'><iframe srcdoc='<script>alert(4)</script>'>",
    "</td></tr><script>alert(5)</script>",
]


def test_token_names_are_rendered_as_text(page: Page, person: Person) -> None:
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    signed_in(page, person)
    created = {name: create_token(page, name) for name in XSS_NAMES}

    for path in ("/tokens", "/events"):
        page.goto(path)
        for name in XSS_NAMES:
            expect(page.get_by_text(name).first).to_be_visible()
        injected: Any = page.evaluate(
            """() => [document.querySelectorAll('img[src="x"], svg, iframe').length,
            Array.from(document.scripts).filter(s => s.textContent.includes('alert(')).length,
            document.querySelectorAll('[onerror], [onload]').length]"""
        )
        assert injected == [0, 0, 0], (path, injected)
    page.goto("/tokens")
    for name, token in created.items():
        expect(token_row(page, token.id)).to_contain_text(name)
    assert dialogs == []


STATE_PAGES = ("/tokens", "/account", "/device")

COLLECT_FORMS = """() => Array.from(document.forms)
    .filter(form => form.method.toLowerCase() === 'post')
    .map(form => ({
        action: form.action,
        fields: Array.from(new FormData(form).entries())
            .filter(([, value]) => typeof value === 'string'),
    }))"""


def is_csrf_field(name: str) -> bool:
    return "csrf" in name.lower()


def posted_to(action: str) -> Callable[[Response], bool]:
    return lambda response: response.url == action and response.request.method == "POST"


def state_of(server: Server, person: Person) -> tuple[list[str], int]:
    """What a forged form could change, as the API sees it: the tokens and the audit log."""
    with server.client(person.token) as client:
        tokens = client.get("/v6/user/tokens", params={"limit": 100}).json()["tokens"]
        events = client.get("/v1/user/events", params={"limit": 100}).json()["events"]
    return sorted(token["id"] for token in tokens), len(events)


def test_a_form_posted_from_another_origin_changes_nothing(
    browsing: Browsing, person: Person, server: Server
) -> None:
    page = browsing.new_page()
    signed_in(page, person)
    kept = create_token(page, "target of forgery")

    forms: dict[tuple[str, tuple[str, ...]], list[tuple[str, str]]] = {}

    def collect() -> None:
        for form in page.evaluate(COLLECT_FORMS):
            fields = [(str(name), str(value)) for name, value in form["fields"]]
            forms[(form["action"], tuple(name for name, _ in fields))] = fields

    for path in STATE_PAGES:
        page.goto(path)
        collect()
    # The form that revokes, behind the confirmation.
    page.goto("/tokens")
    token_row(page, kept.id).get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("button", name="Revoke token")).to_be_visible()
    collect()
    # Every state-changing form carries its CSRF token.
    assert forms, "no POST form found"
    for (action, names), _fields in forms.items():
        assert any(is_csrf_field(name) for name in names), f"{action}: no CSRF field in {names}"
    actions = {action for action, _ in forms}
    # The row's own forms (rotate, revoke) are among them.
    assert len([action for action in actions if kept.id in action]) >= 2, actions

    before = state_of(server, person)
    with foreign_site() as site:
        browsing.guard.allow(site.origin)
        for number, ((action, _names), fields) in enumerate(forms.items()):
            variants = {
                "without its CSRF token": [f for f in fields if not is_csrf_field(f[0])],
                "with its CSRF token, from another origin": fields,
            }
            for variant, sent in variants.items():
                url = site.forging(f"/prize-{number}-{len(sent)}", action, sent)
                with page.expect_response(posted_to(action)) as answer:
                    page.goto(url)
                assert answer.value.status == 403, (action, variant, answer.value.status)
                # The refusal says why, in words, not a blank page.
                expect(page.locator("body")).not_to_be_empty()

            # The token is a lock of its own, not only the headers a browser adds to
            # a cross-origin request: the session's cookie without the token, sent
            # with no Origin or Sec-Fetch-Site at all, is refused too.
            without: dict[str, str | float | bool] = {
                name: value for name, value in fields if not is_csrf_field(name)
            }
            direct = page.request.post(action, form=without, max_redirects=0)
            assert direct.status == 403, (action, "no token, no Origin", direct.status)

    assert state_of(server, person) == before
    # The person is still signed in, and their password still works.
    page.goto("/tokens")
    expect(page.get_by_role("heading", name="Tokens", exact=True)).to_be_visible()
    check = browsing.new_page()
    signed_in(check, person)
