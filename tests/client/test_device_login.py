"""`tokend.client.device.DeviceLogin` against a live server, on both databases. Its
sleep is replaced by one that only records (and, at a chosen moment, acts as the
person would), so the polling rules are checked without waiting for them."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.conftest import Account
from tests.support import Server, free_port
from tokend.bootstrap import Services
from tokend.client import Client, ServerUnreachable
from tokend.client.device import (
    MAX_FAILED_POLLS,
    DeviceLogin,
    DeviceLoginDenied,
    DeviceLoginExpired,
    DeviceLoginFailed,
)
from tokend.domain.principal import Person
from tokend.service.clock import system_clock
from tokend.storage.schema import device_authorizations

PASSWORD = "a long enough passphrase"


@pytest.fixture
def person(services: Services, alice: Account) -> Person:
    services.accounts.set_password(alice.username, PASSWORD)
    return services.sessions.sign_in(alice.username, PASSWORD).person


class Sleeps:
    """Records each wait; on the ``at``-th, runs ``then`` (the person deciding)."""

    def __init__(self, at: int = 0, then: Callable[[], object] = lambda: None) -> None:
        self.seconds: list[float] = []
        self._at = at
        self._then = then

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        if len(self.seconds) == self._at:
            self._then()


def test_wait_polls_at_the_interval_and_slows_down_when_told(
    server: Server, services: Services, person: Person
) -> None:
    codes: list[str] = []
    sleeps = Sleeps(at=4, then=lambda: services.devices.decide(person, codes[0], approve=True))
    with DeviceLogin(server.url, client_id="pytest", sleep=sleeps) as login:
        started = login.start(name="client test")
        codes.append(started.user_code)
        assert started.device_code not in repr(started)
        assert started.device_code not in repr(login)
        token = login.wait(started)

    # Waits before each poll: 5 s, then (polled "too soon", since nothing really
    # waited) 5 more after each slow_down, until the approval came.
    assert sleeps.seconds == [5, 5, 10, 15]
    with Client(server.url, token) as client:
        assert client.user().id == person.user.id
        assert client.tokens.get("current").name == "client test"


def test_denied_and_expired(server: Server, services: Services, person: Person) -> None:
    codes: list[str] = []
    deny = Sleeps(at=1, then=lambda: services.devices.decide(person, codes[0], approve=False))
    with DeviceLogin(server.url, client_id="pytest", sleep=deny) as login:
        started = login.start()
        codes.append(started.user_code)
        with pytest.raises(DeviceLoginDenied) as denied:
            login.wait(started)
    assert denied.value.code == "access_denied"

    def expire() -> None:
        digest = services.devices.digester.digest(started.device_code)
        with services.engine.begin() as conn:
            conn.execute(
                update(device_authorizations)
                .where(device_authorizations.c.device_code_digest == digest)
                .values(expires_at=system_clock() - 1)
            )

    with DeviceLogin(server.url, client_id="pytest", sleep=Sleeps(at=1, then=expire)) as login:
        started = login.start()
        with pytest.raises(DeviceLoginExpired):
            login.wait(started)


def test_the_local_deadline_ends_the_wait_too(server: Server) -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds + 100  # a laptop that slept through the code's life

    login = DeviceLogin(server.url, sleep=sleep, clock=lambda: now[0])
    with login:
        started = login.start()
        with pytest.raises(DeviceLoginExpired):
            login.wait(started)


def test_bad_input_is_the_servers_words(server: Server) -> None:
    with (
        DeviceLogin(server.url, client_id="x" * 101) as login,
        pytest.raises(DeviceLoginFailed) as refused,
    ):
        login.start()
    assert refused.value.code == "invalid_request"
    assert "client_id" in refused.value.message


def test_an_unreachable_server(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with DeviceLogin(url) as login, pytest.raises(ServerUnreachable, match=url):
        login.start()


@pytest.fixture
def own_server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    # Codes other tests left waiting in this database are from 127.0.0.1 too: no cap.
    env = {"TOKEND_DEVICE_CODES_PER_ADDRESS": "0"}
    with Server(database_url=database_url, log_path=tmp_path / "tokend.log", env=env) as running:
        yield running


def test_a_restarting_server_is_waited_for(
    own_server: Server, services: Services, person: Person
) -> None:
    codes: list[str] = []

    def restart_then_approve(seconds: float) -> None:
        # Down for two polls, then back (on the same port), then the person approves.
        sleeps.append(seconds)
        if len(sleeps) == 1:
            own_server.stop()
        elif len(sleeps) == 3:
            own_server.start()
            services.devices.decide(person, codes[0], approve=True)

    sleeps: list[float] = []
    with DeviceLogin(own_server.url, sleep=restart_then_approve) as login:
        started = login.start()
        codes.append(started.user_code)
        assert login.wait(started)
    assert len(sleeps) == 3

    own_server.stop()
    gone: list[float] = []
    with DeviceLogin(own_server.url, sleep=gone.append) as login, pytest.raises(ServerUnreachable):
        login.wait(started)
    assert len(gone) == MAX_FAILED_POLLS
