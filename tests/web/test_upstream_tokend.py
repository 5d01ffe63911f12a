"""tokend signing people in through another tokend: the upstream direction of SPEC §10
against a second, independent provider, which is tokend's own provider side. Two real
`tokend serve`, each with its own database; the browser is one httpx client that
keeps each site's cookies (the provider at 127.0.0.1, the other at localhost)."""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support import Server, free_port
from tests.web.conftest import Person
from tests.web.visitor import Visitor
from tokend.bootstrap import Services


class Downstream:
    def __init__(self, server: Server, env: dict[str, str]) -> None:
        self.server = server
        self.env = env
        # Its public name: another site than the provider's, as in real life.
        self.url = f"http://localhost:{server.port}"

    def tokend(self, *args: str) -> subprocess.CompletedProcess[str]:
        """An operator command on this tokend's database and settings."""
        env = {**os.environ, **self.env, "TOKEND_DATABASE_URL": self.server.database_url}
        return subprocess.run(
            [sys.executable, "-m", "tokend", *args],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip


@pytest.fixture
def downstream(server: Server, services: Services, tmp_path: Path) -> Iterator[Downstream]:
    """A second tokend whose people sign in through `server`, created at first sign-in."""
    with _downstream(server, services, tmp_path, create_users=True) as made:
        yield made


@pytest.fixture
def closed_downstream(server: Server, services: Services, tmp_path: Path) -> Iterator[Downstream]:
    """The same, creating nobody: the operator links each person."""
    with _downstream(server, services, tmp_path, create_users=False) as made:
        yield made


@contextmanager
def _downstream(
    server: Server, services: Services, tmp_path: Path, *, create_users: bool
) -> Iterator[Downstream]:
    port = free_port()
    made = services.integrations.create(
        "Team tokend", redirect_uris=[f"http://localhost:{port}/login/upstream/callback"]
    )
    env = {
        "TOKEND_PUBLIC_URL": f"http://localhost:{port}",
        "TOKEND_OIDC_ISSUER": server.url,
        "TOKEND_OIDC_CLIENT_ID": made.integration.client_id,
        "TOKEND_OIDC_CLIENT_SECRET": made.client_secret,
        "TOKEND_OIDC_CREATE_USERS": str(create_users).lower(),
        "TOKEND_OIDC_NAME": "Sign in with Company tokend",
    }
    second = Server(
        database_url=f"sqlite:///{tmp_path / 'downstream.db'}",
        log_path=tmp_path / "downstream.log",
        env=env,
        port=port,
    )
    with second:
        yield Downstream(second, env)


def trip(browser: Visitor, downstream: Downstream, decision: str) -> httpx.Response:
    """From the downstream's button to the provider's consent, answered, and back to
    the downstream's callback; its answer."""
    login = browser.page(browser.http.get(f"{downstream.url}/login"))
    button = login.doc.one("a", data_testid="upstream-sign-in")
    assert button.text == "Sign in with Company tokend"
    started = browser.http.get(f"{downstream.url}{button.attrs['href']}")
    assert started.status_code == 303, started.text
    authorize = started.headers["location"]
    assert authorize.startswith(f"{browser.server.url}/oauth/authorize?")
    consent = browser.page(browser.http.get(authorize))
    assert consent.status == 200, consent.html[:300]
    answer = browser.submit(consent, decision)
    assert answer.status_code == 303
    back = answer.headers["location"]
    assert back.startswith(f"{downstream.url}/login/upstream/callback?")
    return browser.http.get(back)


def test_a_person_of_one_tokend_signs_in_to_another(
    server: Server, downstream: Downstream, person: Person
) -> None:
    with Visitor(server) as browser:
        assert browser.sign_in(person.username, person.password).status_code == 303
        landed = trip(browser, downstream, "Allow")
        assert landed.status_code == 303, landed.text
        assert landed.headers["location"] == "/tokens"
        tokens = browser.page(browser.http.get(f"{downstream.url}/tokens"))
        assert tokens.status == 200
        assert tokens.doc.one("span", class_="who").text == person.username
        # A second trip finds the same account, not a new one.
        browser.http.post(
            f"{downstream.url}/logout",
            data={"csrf_token": tokens.doc.all("input", name="csrf_token")[0].attrs["value"]},
        )
        again = trip(browser, downstream, "Allow")
        assert again.headers["location"] == "/tokens"
        page = browser.page(browser.http.get(f"{downstream.url}/tokens"))
        assert page.doc.one("span", class_="who").text == person.username


def test_deny_at_the_provider_leaves_the_person_signed_out(
    server: Server, downstream: Downstream, person: Person
) -> None:
    with Visitor(server) as browser:
        browser.sign_in(person.username, person.password)
        refused = trip(browser, downstream, "Deny")
        page = browser.page(refused)
        assert page.doc.one("h1").text == "Sign in to tokend"
        assert page.doc.one(data_testid="upstream-error").text
        tokens = browser.http.get(f"{downstream.url}/tokens")
        assert tokens.status_code == 303
        assert urlsplit(tokens.headers["location"]).path == "/login"
        assert "code" not in parse_qs(urlsplit(str(refused.url)).query)


def test_an_operator_links_an_existing_account(
    server: Server, closed_downstream: Downstream, person: Person
) -> None:
    with Visitor(server) as browser:
        browser.sign_in(person.username, person.password)
        refused = browser.page(trip(browser, closed_downstream, "Allow"))
        assert refused.status == 403
        # The refusal names the person's sub, for the operator.
        assert person.account.user_id in refused.html

        made = closed_downstream.tokend("admin", "create-user", "carol")
        assert made.returncode == 0, made.stderr
        linked = closed_downstream.tokend("admin", "link-identity", "carol", person.account.user_id)
        assert linked.returncode == 0, linked.stderr
        assert "carol now signs in through" in linked.stdout

        landed = trip(browser, closed_downstream, "Allow")
        assert landed.headers["location"] == "/tokens"
        page = browser.page(browser.http.get(f"{closed_downstream.url}/tokens"))
        assert page.doc.one("span", class_="who").text == "carol"

        taken = closed_downstream.tokend("admin", "create-user", "dave")
        assert taken.returncode == 0
        again = closed_downstream.tokend("admin", "link-identity", "dave", person.account.user_id)
        assert again.returncode == 1
        assert "linked to another account" in again.stderr
