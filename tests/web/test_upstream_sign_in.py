"""Sign-in through an upstream identity provider (SPEC §10): a real OpenID provider
(`oidc-provider-mock`, on its own port) and a real `tokend serve` configured with
TOKEND_OIDC_*, driven as a browser would be, every redirect followed by hand."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread

from tests.support import Server, free_port
from tests.web.visitor import Page, Visitor
from tokend.bootstrap import Services

CLIENT_ID = "tokend-test"
CLIENT_SECRET = "upstream-client-secret-not-for-logs"
CALLBACK = "/login/upstream/callback"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The identity provider's issuer URL. It must be reached as "localhost": the
    provider names itself after the Host it is asked with."""
    port = free_port()
    with run_server_in_thread(port=port, require_nonce=True):
        yield f"http://localhost:{port}"


def _oidc_env(issuer: str, **extra: str) -> dict[str, str]:
    return {
        "TOKEND_OIDC_ISSUER": issuer,
        "TOKEND_OIDC_CLIENT_ID": CLIENT_ID,
        "TOKEND_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        **extra,
    }


def _server(database_url: str, log: Path, env: dict[str, str]) -> Server:
    return Server(database_url=database_url, log_path=log, env=env)


@pytest.fixture(scope="module")
def creating(
    services: Services, database_url: str, provider: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """tokend creating accounts at first sign-in, for verified emails of two domains."""
    log = tmp_path_factory.mktemp("upstream") / "tokend.log"
    env = _oidc_env(
        provider,
        TOKEND_OIDC_CREATE_USERS="true",
        TOKEND_OIDC_EMAIL_DOMAINS="example.com, example.org",
        TOKEND_OIDC_NAME="Sign in with Example SSO",
        # The test says which address it comes from (X-Forwarded-For).
        TOKEND_TRUSTED_PROXIES="127.0.0.1",
    )
    with _server(database_url, log, env) as running:
        yield running


@pytest.fixture(scope="module")
def not_creating(
    services: Services, database_url: str, provider: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("upstream-closed") / "tokend.log"
    with _server(database_url, log, _oidc_env(provider)) as running:
        yield running


@dataclass
class Trip:
    """A browser's trip to the provider and back, stopped at the callback URL."""

    visitor: Visitor
    authorization_url: str
    callback_url: str

    @property
    def state(self) -> str:
        return parse_qs(urlsplit(self.callback_url).query)["state"][0]

    def come_back(self, browser: Visitor | None = None) -> httpx.Response:
        return (browser or self.visitor).http.get(self.callback_url)


def _set_person(provider: str, sub: str, **claims: object) -> None:
    answer = httpx.put(f"{provider}/users/{sub}", json=claims, timeout=10)
    assert answer.status_code == 204, answer.text


def _go(visitor: Visitor, provider: str, sub: str, *, next_path: str | None = None) -> Trip:
    """Press the button on /login and sign in at the provider as ``sub``."""
    login = visitor.get("/login" + (f"?next={next_path}" if next_path else ""))
    link = login.doc.one("a", data_testid="upstream-sign-in").attrs["href"]
    assert link.startswith("/login/upstream")
    started = visitor.http.get(link)
    assert started.status_code == 303, started.text
    authorization_url = started.headers["location"]
    assert authorization_url.startswith(f"{provider}/oauth2/authorize?")
    with httpx.Client(timeout=10) as at_provider:  # another site: its own cookies
        assert at_provider.get(authorization_url).status_code == 200
        answer = at_provider.post(authorization_url, data={"sub": sub})
    assert answer.status_code == 302, answer.text
    callback_url = answer.headers["location"]
    assert callback_url.startswith(f"{visitor.server.url}{CALLBACK}?")
    return Trip(visitor, authorization_url, callback_url)


def _who(page: Page) -> str:
    return page.doc.one("span", class_="who").text


def _refusal(response: httpx.Response) -> str:
    page = Visitor.page(response)
    assert page.doc.one("h1").text == "Sign in to tokend"  # back on the sign-in page
    return page.doc.one(data_testid="upstream-error").text


def _signed_out(visitor: Visitor) -> bool:
    answer = visitor.http.get("/tokens")
    return answer.status_code == 303 and answer.headers["location"].startswith("/login")


@pytest.fixture
def new_sub() -> Callable[[], str]:
    return lambda: f"sub-{uuid.uuid4().hex}"


def test_first_sign_in_creates_the_user_and_lands_on_tokens(
    creating: Server, provider: str, new_sub: Callable[[], str]
) -> None:
    sub = new_sub()
    name = f"ada-{uuid.uuid4().hex[:8]}"
    _set_person(
        provider,
        sub,
        email=f"{name}@Example.com",
        email_verified=True,
        preferred_username=name,
        name="Ada Lovelace",
    )
    with Visitor(creating) as browser:
        login = browser.get("/login")
        assert login.doc.one("a", data_testid="upstream-sign-in").text == "Sign in with Example SSO"
        trip = _go(browser, provider, sub)
        landed = trip.come_back()
        assert landed.status_code == 303, landed.text
        assert landed.headers["location"] == "/tokens"
        tokens = browser.follow(landed)
        assert tokens.status == 200
        assert tokens.doc.one("h1").text == "Tokens"
        assert _who(tokens) == name
        account = browser.get("/account")
        assert f"{name}@Example.com" in account.doc.one("main").text
        assert "Ada Lovelace" in account.doc.one("main").text
        events = browser.get("/events")
        rows = events.doc.all("tr", data_testid="event-row")
        types = [row.attrs["data-event-type"] for row in rows]
        assert types == ["auth.signed_in_upstream"]
    log = creating.log_path.read_text()
    assert CLIENT_SECRET not in log
    assert trip.state not in log
    assert parse_qs(urlsplit(trip.callback_url).query)["code"][0] not in log


def test_the_next_page_is_kept_through_the_provider(
    creating: Server, provider: str, new_sub: Callable[[], str]
) -> None:
    sub = new_sub()
    _set_person(provider, sub, email=f"{sub}@example.org", email_verified=True)
    with Visitor(creating) as browser:
        landed = _go(browser, provider, sub, next_path="/events?x=1").come_back()
        assert landed.status_code == 303
        assert landed.headers["location"] == "/events?x=1"


def test_a_second_sign_in_finds_the_same_user_by_sub_even_with_a_new_email(
    creating: Server, provider: str, new_sub: Callable[[], str]
) -> None:
    sub = new_sub()
    name = f"grace-{uuid.uuid4().hex[:8]}"
    _set_person(provider, sub, email=f"{name}@example.com", email_verified=True)
    with Visitor(creating) as first:
        assert _go(first, provider, sub).come_back().status_code == 303
        assert _who(first.get("/tokens")) == name
    # The provider now says another email and name, in a domain tokend would not
    # create accounts for: the person is still the same (issuer, sub).
    _set_person(provider, sub, email="someone.else@elsewhere.test", preferred_username="other-name")
    with Visitor(creating) as second:
        assert _go(second, provider, sub).come_back().status_code == 303
        assert _who(second.get("/tokens")) == name
    # And a second person whose name is taken gets a name of their own.
    other = new_sub()
    _set_person(provider, other, email=f"{name}@example.org", email_verified=True)
    with Visitor(creating) as third:
        assert _go(third, provider, other).come_back().status_code == 303
        assert _who(third.get("/tokens")) == f"{name}-2"


def test_nobody_is_created_when_creation_is_off(
    not_creating: Server, provider: str, new_sub: Callable[[], str], services: Services
) -> None:
    sub = new_sub()
    name = f"closed-{uuid.uuid4().hex[:8]}"
    _set_person(provider, sub, email=f"{name}@example.com", email_verified=True)
    with Visitor(not_creating) as browser:
        login = browser.get("/login")
        host = urlsplit(provider).netloc.split(":")[0]
        assert login.doc.one("a", data_testid="upstream-sign-in").text == f"Sign in with {host}"
        refused = _go(browser, provider, sub).come_back()
        assert refused.status_code == 403
        message = _refusal(refused)
        assert "no tokend account is linked" in message
        assert sub in message  # what to tell the operator
        assert _signed_out(browser)
    with services.sessions.uow() as uow:
        assert uow.accounts.get_user_by_username(name) is None
        assert uow.user_identities.get(provider, sub) is None


@pytest.mark.parametrize(
    "claims",
    [
        {"email": "mallory@evil.test", "email_verified": True},
        {"email": "mallory@sub.example.com", "email_verified": True},  # not a subdomain
        {"email": "mallory@example.com", "email_verified": False},
        {"email": "mallory@example.com"},  # not said to be verified
    ],
)
def test_an_email_outside_the_domains_gets_no_account(
    creating: Server,
    provider: str,
    new_sub: Callable[[], str],
    services: Services,
    claims: dict[str, object],
) -> None:
    sub = new_sub()
    _set_person(provider, sub, preferred_username=sub, **claims)
    with Visitor(creating) as browser:
        refused = _go(browser, provider, sub).come_back()
        assert refused.status_code == 403
        assert "only for verified emails of its domains" in _refusal(refused)
        assert _signed_out(browser)
    with services.sessions.uow() as uow:
        assert uow.accounts.get_user_by_username(sub) is None
        assert uow.user_identities.get(provider, sub) is None


def test_a_callback_works_once(creating: Server, provider: str, new_sub: Callable[[], str]) -> None:
    sub = new_sub()
    _set_person(provider, sub, email=f"{sub}@example.com", email_verified=True)
    with Visitor(creating) as browser:
        trip = _go(browser, provider, sub)
        assert trip.come_back().status_code == 303
    with Visitor(creating) as replaying:
        # Even with the state cookie the first browser had: the state is used up.
        replaying.http.cookies.set("tokend_upstream", trip.state)
        refused = trip.come_back(replaying)
        assert refused.status_code == 400
        assert "not valid any more" in _refusal(refused)
        assert _signed_out(replaying)


def test_a_callback_from_another_browser_signs_nobody_in(
    creating: Server, provider: str, new_sub: Callable[[], str]
) -> None:
    """Login CSRF: the attacker signs in at the provider as themselves and sends the
    victim the callback link; the victim's browser has no (or another) state cookie."""
    attacker = new_sub()
    _set_person(provider, attacker, email=f"{attacker}@example.com", email_verified=True)
    with Visitor(creating) as attackers, Visitor(creating) as victims:
        trip = _go(attackers, provider, attacker)
        refused = trip.come_back(victims)
        assert refused.status_code == 400
        assert "started in another browser" in _refusal(refused)
        assert _signed_out(victims)
        # With a state cookie of its own trip, the victim is still refused.
        _go(victims, provider, new_sub())
        assert trip.come_back(victims).status_code == 400
        assert _signed_out(victims)
        # The refusal did not use the trip up: it was not the victim's to end.
        assert trip.come_back().status_code == 303


def test_a_code_from_another_trip_fails_the_nonce(
    creating: Server, provider: str, new_sub: Callable[[], str]
) -> None:
    """A code injected into someone's callback (with their own state) brings an
    id_token whose nonce is another trip's: refused."""
    sub = new_sub()
    _set_person(provider, sub, email=f"{sub}@example.com", email_verified=True)
    with Visitor(creating) as mine, Visitor(creating) as theirs:
        my_trip = _go(mine, provider, sub)
        their_trip = _go(theirs, provider, sub)
        my_code = parse_qs(urlsplit(my_trip.callback_url).query)["code"][0]
        injected = f"{creating.url}{CALLBACK}?code={my_code}&state={their_trip.state}"
        refused = theirs.http.get(injected)
        assert refused.status_code == 400
        assert "could not be verified" in _refusal(refused)
        assert _signed_out(theirs)
    assert "invalid_claim" in creating.log_path.read_text()


def test_a_person_who_says_no_at_the_provider_is_back_on_the_sign_in_page(
    creating: Server, provider: str
) -> None:
    with Visitor(creating) as browser:
        authorization_url = browser.http.get("/login/upstream").headers["location"]
        with httpx.Client(timeout=10) as at_provider:
            denied = at_provider.post(authorization_url, data={"action": "deny"})
        assert denied.status_code == 302
        back = denied.headers["location"]
        assert parse_qs(urlsplit(back).query)["error"] == ["access_denied"]
        refused = browser.http.get(back)
        assert refused.status_code == 400
        assert "did not let you through" in _refusal(refused)
        assert _signed_out(browser)


def test_an_error_with_the_state_ends_the_trip_and_keeps_the_next_page(
    creating: Server,
) -> None:
    """As RFC 6749 §4.1.2.1 has it, with the state (the mock provider leaves it out)."""
    with Visitor(creating) as browser:
        authorization_url = browser.http.get("/login/upstream?next=/events").headers["location"]
        state = parse_qs(urlsplit(authorization_url).query)["state"][0]
        page = Visitor.page(browser.http.get(f"{CALLBACK}?error=access_denied&state={state}"))
        assert page.status == 400
        assert "did not let you through" in page.doc.one(data_testid="upstream-error").text
        assert page.doc.one("input", name="next").attrs["value"] == "/events"
        link = page.doc.one("a", data_testid="upstream-sign-in")
        assert link.attrs["href"] == "/login/upstream?next=/events"
        # The trip is over: even with its cookie back, its state no longer works.
        browser.http.cookies.set("tokend_upstream", state)
        refused = browser.http.get(f"{CALLBACK}?code=whatever&state={state}")
        assert refused.status_code == 400
        assert "not valid any more" in _refusal(refused)


def test_a_provider_that_cannot_be_reached_gets_a_clear_page(
    database_url: str, tmp_path: Path
) -> None:
    nowhere = f"http://localhost:{free_port()}"
    with (
        _server(database_url, tmp_path / "tokend.log", _oidc_env(nowhere)) as running,
        Visitor(running) as browser,
    ):
        assert browser.get("/login").doc.one("a", data_testid="upstream-sign-in")  # still offered
        answer = browser.http.get("/login/upstream")
        assert answer.status_code == 503
        assert "cannot be reached" in _refusal(answer)
        assert "tokend_upstream" not in answer.headers.get("set-cookie", "")


def test_a_provider_gone_before_the_code_is_traded_gets_a_clear_page(
    database_url: str, tmp_path: Path, new_sub: Callable[[], str]
) -> None:
    port = free_port()
    issuer = f"http://localhost:{port}"
    with (
        _server(
            database_url,
            tmp_path / "tokend.log",
            _oidc_env(issuer, TOKEND_OIDC_CREATE_USERS="true"),
        ) as running,
        Visitor(running) as browser,
    ):
        with run_server_in_thread(port=port):
            trip = _go(browser, issuer, new_sub())
        answer = trip.come_back()  # the provider has stopped
        assert answer.status_code == 503
        assert "cannot be reached" in _refusal(answer)
        assert _signed_out(browser)


def test_one_address_cannot_fill_the_table_with_sign_ins(creating: Server) -> None:
    def start(address: str) -> httpx.Response:
        with httpx.Client(base_url=creating.url, timeout=30) as http:
            return http.get("/login/upstream", headers={"x-forwarded-for": address})

    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    started = [start(address).status_code for _ in range(30)]
    assert started == [303] * 30
    refused = start(address)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 600
    assert "Too many sign-ins" in refused.text
    assert "location" not in refused.headers
    assert start("203.0.113.9").status_code == 303  # another address is not held up


def test_without_a_provider_there_is_no_button(visitor: Visitor) -> None:
    assert not visitor.get("/login").doc.all("a", data_testid="upstream-sign-in")
    assert visitor.http.get("/login/upstream").status_code == 404
    assert visitor.http.get(f"{CALLBACK}?code=x&state=y").status_code == 404
