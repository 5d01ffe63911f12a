"""People: `tokend admin set-password` and `invite`, and `tokend login --web` against a
live server, on both databases. The approval a person makes on the /device page is
made here through the service layer, as that page makes it."""

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.cli.conftest import Holder, one_error_line
from tests.cli.terminal import Terminal
from tests.conftest import Account
from tests.support import Server
from tokend.bootstrap import Services
from tokend.domain.errors import SessionEnded, SignInFailed
from tokend.domain.principal import Person
from tokend.service.accounts import InviteInvalid

PASSWORD = "correct horse battery staple"
USER_CODE = re.compile(r"\b([B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4})\b")


def admin(holder: Holder, database_url: str, *args: str, stdin: str = "",
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return holder.run("admin", *args, stdin=stdin,
                      env={"TOKEND_DATABASE_URL": database_url, **(env or {})})  # fmt: skip


def clean_env(holder: Holder) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TOKEND_")}
    return {**clean, "XDG_CONFIG_HOME": str(holder.config_home)}


# --- set-password ------------------------------------------------------------------


def test_set_password_from_stdin_ends_the_sessions(
    holder: Holder, database_url: str, services: Services, alice: Account
) -> None:
    services.accounts.set_password(alice.username, "the first password")
    before = services.sessions.sign_in(alice.username, "the first password")

    result = admin(holder, database_url, "set-password", alice.username, stdin=PASSWORD + "\n")

    assert result.returncode == 0, result.stderr
    assert f"Password set for {alice.username}" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr
    with pytest.raises(SessionEnded):
        services.sessions.resolve(before.secret)
    with pytest.raises(SignInFailed):
        services.sessions.sign_in(alice.username, "the first password")
    assert services.sessions.sign_in(alice.username, PASSWORD).person.user.id == alice.user_id


def test_only_the_line_is_the_password(
    holder: Holder, database_url: str, services: Services, alice: Account
) -> None:
    # Spaces inside and around are the person's; the line ending (\n or \r\n) is not.
    password = "  spaced  out  password  "
    result = admin(holder, database_url, "set-password", alice.username,
                   stdin=password + "\r\nsecond line\n")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert services.sessions.sign_in(alice.username, password)


@pytest.mark.parametrize(
    ("password", "rule"),
    [("short", "at least 10"), ("x" * 257, "at most 256"), ("{username}", "username or email"),
     ("{USERNAME}@LOCALHOST", "username or email")],
)  # fmt: skip
def test_a_weak_password_is_one_error_line(
    holder: Holder, database_url: str, services: Services, alice: Account, password: str,
    rule: str,
) -> None:  # fmt: skip
    services.accounts.set_password(alice.username, PASSWORD)
    password = password.format(username=alice.username, USERNAME=alice.username.upper())

    error = one_error_line(
        admin(holder, database_url, "set-password", alice.username, stdin=password + "\n")
    )

    assert error.startswith("error: password refused: ")
    assert rule in error
    assert password not in error
    assert services.sessions.sign_in(alice.username, PASSWORD)  # unchanged


def test_set_password_refuses_nothing_and_nobody(
    holder: Holder, database_url: str, services: Services, alice: Account
) -> None:
    assert "no password" in one_error_line(
        admin(holder, database_url, "set-password", alice.username, stdin="")
    )
    assert "no password" in one_error_line(
        admin(holder, database_url, "set-password", alice.username, stdin="\n")
    )
    assert "No user is named 'nobody-at-all'" in one_error_line(
        admin(holder, database_url, "set-password", "nobody-at-all", stdin=PASSWORD + "\n")
    )
    service = services.admin.create_service(f"svc-{alice.username}").user.username
    assert "No user is named" in one_error_line(
        admin(holder, database_url, "set-password", service, stdin=PASSWORD + "\n")
    )


def test_set_password_at_a_terminal_asks_twice(
    holder: Holder, database_url: str, services: Services, alice: Account
) -> None:
    env = {**clean_env(holder), "TOKEND_DATABASE_URL": database_url}
    with Terminal("admin", "set-password", alice.username, env=env) as terminal:
        terminal.expect("New password: ")
        terminal.send(PASSWORD + "\n")
        terminal.expect("Repeat it: ")
        terminal.send(PASSWORD + "\n")
        assert terminal.wait() == 0, terminal.output
    assert PASSWORD not in terminal.output  # not echoed
    assert f"Password set for {alice.username}" in terminal.output
    assert services.sessions.sign_in(alice.username, PASSWORD)

    with Terminal("admin", "set-password", alice.username, env=env) as terminal:
        terminal.expect("New password: ")
        terminal.send("another long password\n")
        terminal.expect("Repeat it: ")
        terminal.send("another long passwork\n")
        assert terminal.wait() == 1
    assert "error: the two passwords differ; nothing was changed" in terminal.output
    assert services.sessions.sign_in(alice.username, PASSWORD)  # unchanged


# --- invite --------------------------------------------------------------------------


def test_invite_prints_a_one_time_link(
    holder: Holder, database_url: str, services: Services, alice: Account
) -> None:
    public = "https://tokens.example.com"
    result = admin(holder, database_url, "invite", alice.username,
                   env={"TOKEND_PUBLIC_URL": public})  # fmt: skip

    assert result.returncode == 0, result.stderr
    links = re.findall(rf"{re.escape(public)}/invite/(\S+)", result.stdout)
    assert len(links) == 1
    assert "72 hours" in result.stdout
    assert re.search(r"expires \d{4}-\d\d-\d\d \d\d:\d\d UTC", result.stdout)
    assert result.stderr == ""  # TOKEND_PUBLIC_URL set: no note
    assert services.accounts.invited(links[0]).id == alice.user_id


def test_invite_as_json(
    holder: Holder, database_url: str, services: Services, alice: Account
) -> None:
    before = time.time() * 1000
    result = admin(holder, database_url, "invite", alice.username, "--format", "json")

    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)  # stdout is the JSON and nothing else
    assert set(body) == {"url", "expiresAt", "user"}
    assert body["user"]["id"] == alice.user_id
    assert body["user"]["username"] == alice.username
    hours = (body["expiresAt"] - before) / 3_600_000
    assert 71.9 < hours < 72.1
    # Without TOKEND_PUBLIC_URL, the link names where `tokend serve` listens by default,
    # and a note on stderr says so.
    assert body["url"].startswith("http://127.0.0.1:8000/invite/")
    assert "TOKEND_PUBLIC_URL" in result.stderr
    code = body["url"].rsplit("/", 1)[1]
    signed_in = services.accounts.accept_invite(code, PASSWORD)
    assert signed_in.person.user.id == alice.user_id
    with pytest.raises(InviteInvalid):
        services.accounts.accept_invite(code, PASSWORD)


def test_invite_for_nobody_is_one_error_line(holder: Holder, database_url: str) -> None:
    error = one_error_line(admin(holder, database_url, "invite", "nobody-at-all"))
    assert "No user is named 'nobody-at-all'" in error


# --- tokend login --web ------------------------------------------------------------


@pytest.fixture
def person(services: Services, alice: Account) -> Person:
    services.accounts.set_password(alice.username, PASSWORD)
    return services.sessions.sign_in(alice.username, PASSWORD).person


@pytest.fixture
def web_login(server: Server, holder: Holder) -> Iterator[subprocess.Popen[str]]:
    """`tokend login --web --no-browser` in a pipe, as a script or a test runs it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tokend", "login", "--web", "--no-browser", "--url", server.url],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(holder),
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


def read_user_code(process: subprocess.Popen[str]) -> tuple[str, list[str]]:
    """The code the login shows, and the lines it printed up to it."""
    assert process.stderr is not None
    lines: list[str] = []
    while line := process.stderr.readline():
        lines.append(line)
        if found := USER_CODE.search(line):
            return found.group(1), lines
    raise AssertionError(f"no code shown: {lines}")


def test_login_web_then_whoami(
    server: Server, services: Services, holder: Holder, person: Person,
    web_login: subprocess.Popen[str],
) -> None:  # fmt: skip
    started = time.monotonic()
    user_code, shown = read_user_code(web_login)
    assert f"{server.url}/device?user_code={user_code}" in "".join(shown)
    device = services.devices.pending(user_code)
    assert device.client_id == "tokend-cli"
    assert device.name.startswith("tokend CLI on ")

    services.devices.decide(person, user_code, approve=True)
    out, err = web_login.communicate(timeout=60)

    assert web_login.returncode == 0, err
    assert time.monotonic() - started >= 4  # it waited the interval before polling
    assert f"Logged in to {server.url} as {person.user.username}" in out
    assert f"(token '{device.name}'" in out
    whoami = holder.run("whoami")
    assert whoami.returncode == 0, whoami.stderr
    assert f"{person.user.username} <" in whoami.stdout
    assert f"token:  token '{device.name}'" in whoami.stdout
    assert "Traceback" not in err


def test_login_web_denied_saves_nothing(
    services: Services, holder: Holder, person: Person, web_login: subprocess.Popen[str]
) -> None:
    user_code, _ = read_user_code(web_login)
    services.devices.decide(person, user_code, approve=False)
    _, err = web_login.communicate(timeout=60)

    assert web_login.returncode == 1
    assert err.strip().splitlines()[-1] == (
        "error: the login was denied in the browser; nothing was saved"
    )
    assert not holder.config_file.exists()


def test_login_at_a_terminal_is_the_web_login_and_ctrl_c_ends_it(
    server: Server, services: Services, holder: Holder
) -> None:
    with Terminal("login", "--no-browser", "--url", server.url, env=clean_env(holder)) as terminal:
        user_code = terminal.expect(USER_CODE.pattern).group(1)
        terminal.expect("Press Ctrl-C to cancel")
        terminal.send("\x03")  # Ctrl-C, as the terminal sends it
        assert terminal.wait() == 130
    assert "Cancelled: not logged in." in terminal.output
    assert "Traceback" not in terminal.output
    assert not holder.config_file.exists()
    assert services.devices.pending(user_code).status == "pending"  # expires unused


def test_no_web_at_a_terminal_asks_for_a_token(
    server: Server, holder: Holder, alice: Account
) -> None:
    args = ("login", "--no-web", "--url", server.url)
    with Terminal(*args, env=clean_env(holder)) as terminal:
        terminal.expect("Token: ")
        terminal.send(alice.token + "\n")
        assert terminal.wait() == 0, terminal.output
    assert alice.token not in terminal.output  # not echoed
    assert f"as {alice.username}" in terminal.output


def test_login_web_against_nothing_is_one_error_line(holder: Holder) -> None:
    from tests.support import free_port

    url = f"http://127.0.0.1:{free_port()}"
    error = one_error_line(holder.run("login", "--web", "--no-browser", "--url", url))
    assert f"cannot reach the tokend server at {url}" in error
