"""Real-browser tests: Debian's Chromium, driven by Playwright, against a real
`tokend serve` (the `server` fixture: SQLite and PostgreSQL).

One browser for the folder (starting Chromium costs a second or two), a fresh context
per test (its own cookies, storage and permissions), so tests share nothing but the
server. Every context records any request to an origin other than the server's, and
its test fails on one: a page that loads a font or a script from a CDN is caught by
every test that opens it, not only by the one that looks. (Recorded, not intercepted:
Playwright's request interception turns off Chromium's cache, and a Back to the page
that showed a secret then re-sends its form instead of failing with ERR_CACHE_MISS.)

Playwright's own browser download cannot work on these machines: the browser is the
system Chromium (`scripts/test` installs it with apt-get when missing). Without it
the tests skip, or fail under CI=true.
"""

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Request,
    expect,
    sync_playwright,
)

from tests.support import IN_CI, Server
from tokend.bootstrap import Services

CHROMIUM = Path(os.environ.get("TOKEND_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    # Chromium reaches out to Google on its own (updates, QUIC probes, sync): on a
    # closed network each attempt hangs until it times out.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Long enough for an argon2 hash on a busy 2-core machine, short enough that a
# missing button fails in seconds rather than Playwright's default 30.
TIMEOUT_MS = 10_000
DESKTOP = {"width": 1280, "height": 800}
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Package-scoped, not session-scoped: between its calls Playwright's sync API
    leaves its event loop marked as running, which would break every later test that
    calls asyncio.run(). The package is torn down when its last test has run."""
    if not os.access(CHROMIUM, os.X_OK):
        message = (
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(apt-get install chromium; scripts/test installs it)"
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class OriginGuard:
    """Records every request a context makes outside the allowed origins."""

    allowed: set[str]
    foreign: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        context.on("request", self._seen)

    def allow(self, url: str) -> None:
        self.allowed.add(origin_of(url))

    def _is_foreign(self, url: str) -> bool:
        scheme = urlsplit(url).scheme
        return scheme in ("http", "https", "ws", "wss") and origin_of(url) not in self.allowed

    def _seen(self, request: Request) -> None:
        if self._is_foreign(request.url):
            self.foreign.append(f"{request.method} {request.url}")


@dataclass
class Browsing:
    """Opens contexts on the server for one test and closes them afterwards."""

    browser: Browser
    server: Server
    guard: OriginGuard
    contexts: list[BrowserContext] = field(default_factory=list)

    def new_context(self, **options: object) -> BrowserContext:
        settings: dict[str, object] = {
            "base_url": self.server.url,
            "viewport": DESKTOP,
            "locale": "en-US",
            "timezone_id": "UTC",
        }
        settings.update(options)
        context = self.browser.new_context(**settings)  # type: ignore[arg-type]
        context.set_default_timeout(TIMEOUT_MS)
        self.guard.attach(context)
        self.contexts.append(context)
        return context

    def new_page(self, **options: object) -> Page:
        return self.new_context(**options).new_page()

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(browser: Browser, server: Server) -> Iterator[Browsing]:
    guard = OriginGuard({origin_of(server.url)})
    opened = Browsing(browser, server, guard)
    yield opened
    opened.close()
    assert not opened.guard.foreign, f"requests to another origin: {opened.guard.foreign}"


@pytest.fixture
def context(browsing: Browsing) -> BrowserContext:
    return browsing.new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@dataclass(frozen=True)
class Person:
    """A user who signs in with a password (and holds the bootstrap token of their account)."""

    username: str
    email: str
    password: str
    user_id: str
    token: str


@pytest.fixture
def make_person(services: Services) -> Callable[..., Person]:
    def make(prefix: str = "person", *, username: str | None = None) -> Person:
        username = username or f"{prefix}-{uuid.uuid4().hex[:10]}"
        created = services.admin.create_user(username)
        password = f"correct horse {uuid.uuid4().hex[:8]}"
        services.accounts.set_password(username, password)
        return Person(
            username, created.user.email, password, created.user.id, created.issued.secret
        )

    return make


@pytest.fixture
def person(make_person: Callable[..., Person]) -> Person:
    return make_person("ada")
