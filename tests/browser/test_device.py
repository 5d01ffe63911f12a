"""`tokend login --web`, the real process, with the approval done in the browser."""

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Person
from tests.browser.pages import signed_in, token_row
from tests.support import Server

USER_CODE = re.compile(r"\b([B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4})\b")
LINK = re.compile(r"(https?://\S+/device\S*)")
# The device polls every 5 s (RFC 8628's default): an approval is heard within one interval.
FINISH_S = 30


@dataclass
class Cli:
    """`tokend` run as a person runs it, with a config folder of its own."""

    config_home: Path

    def env(self) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("TOKEND_")}
        return {**clean, "XDG_CONFIG_HOME": str(self.config_home), "COLUMNS": "200"}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tokend", *args],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@dataclass
class DeviceLogin:
    """A running `tokend login --web`, its stderr read line by line as it comes."""

    process: subprocess.Popen[str]
    lines: "queue.Queue[str | None]" = field(default_factory=queue.Queue)
    stderr: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern: re.Pattern[str], seconds: float = 20) -> str:
        deadline = time.monotonic() + seconds
        for line in self.stderr:
            if found := pattern.search(line):
                return found.group(1)
        while (left := deadline - time.monotonic()) > 0:
            try:
                next_line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if next_line is None:
                break
            self.stderr.append(next_line)
            if found := pattern.search(next_line):
                return found.group(1)
        raise AssertionError(f"{pattern.pattern} not printed; stderr: {''.join(self.stderr)}")

    def finish(self) -> tuple[int, str, str]:
        """Exit status, stdout and the whole stderr."""
        code = self.process.wait(timeout=FINISH_S)
        assert self.process.stdout is not None
        stdout = self.process.stdout.read()
        while (line := self.lines.get(timeout=5)) is not None:
            self.stderr.append(line)
        return code, stdout, "".join(self.stderr)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "config")


@pytest.fixture
def device_login(cli: Cli, server: Server) -> Iterator[DeviceLogin]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tokend", "login", "--web", "--url", server.url, "--no-browser"],
        env=cli.env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    login = DeviceLogin(process)
    yield login
    if process.poll() is None:
        process.kill()
        process.wait()


def test_login_web_completes_when_the_person_approves_in_the_browser(
    page: Page, person: Person, server: Server, cli: Cli, device_login: DeviceLogin
) -> None:
    link = device_login.wait_for(LINK)
    code = device_login.wait_for(USER_CODE)
    assert link.startswith(f"{server.url}/device")

    signed_in(page, person)
    page.goto("/device")
    # Typed as a person might: lower case, without the hyphen.
    page.get_by_label("Code", exact=True).fill(code.replace("-", "").lower())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text(code)).to_be_visible()
    page.get_by_role("button", name="Approve").click()

    status, stdout, stderr = device_login.finish()
    assert status == 0, stderr
    assert person.username in stdout + stderr
    assert "Traceback" not in stderr

    whoami = cli.run("whoami")
    assert whoami.returncode == 0, whoami.stderr
    assert person.username in whoami.stdout
    # The device's token is one of the person's tokens, listed on the page.
    saved = json.loads(cli.run("whoami", "--format", "json").stdout)["token"]
    page.goto("/tokens")
    expect(token_row(page, saved["id"])).to_contain_text(saved["name"])


def test_the_link_with_the_code_asks_only_for_approval(
    page: Page, person: Person, cli: Cli, device_login: DeviceLogin
) -> None:
    link = device_login.wait_for(LINK)
    code = device_login.wait_for(USER_CODE)
    signed_in(page, person)
    # The link is RFC 8628's verification_uri_complete: it carries the code.
    assert code.replace("-", "") in link.replace("-", "").upper(), link
    page.goto(link)
    expect(page.get_by_text(code)).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    status, _, stderr = device_login.finish()
    assert status == 0, stderr
    assert person.username in cli.run("whoami").stdout


def test_login_web_fails_clearly_when_the_person_denies(
    page: Page, person: Person, cli: Cli, device_login: DeviceLogin
) -> None:
    code = device_login.wait_for(USER_CODE)
    signed_in(page, person)
    page.goto("/device")
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Deny").click()

    status, _, stderr = device_login.finish()
    assert status != 0
    assert "denied" in stderr.lower(), stderr
    assert "Traceback" not in stderr
    assert cli.run("whoami").returncode != 0


def test_a_wrong_code_is_refused_next_to_its_field(page: Page, person: Person) -> None:
    signed_in(page, person)
    page.goto("/device")
    page.get_by_label("Code", exact=True).fill("BCDF-GHJK")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
