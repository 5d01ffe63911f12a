"""The token holders' commands, run as a person runs them: `tokend` subprocesses with
their own config folder, against the live server of the test's database.
"""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Account
from tests.support import Server


@dataclass(frozen=True)
class Holder:
    """Runs ``tokend`` with a private ``XDG_CONFIG_HOME`` and no ``TOKEND_*`` variables."""

    config_home: Path

    @property
    def config_file(self) -> Path:
        return self.config_home / "tokend" / "config.toml"

    def run(
        self, *args: str, stdin: str = "", env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("TOKEND_")}
        result = subprocess.run(
            [sys.executable, "-m", "tokend", *args],
            input=stdin,  # a pipe, never a terminal, as in a script
            env={**clean, "XDG_CONFIG_HOME": str(self.config_home), "COLUMNS": "200",
                 **(env or {})},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )  # fmt: skip
        # Whatever happened, a person never sees a traceback.
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def login(self, server: Server, account: Account) -> None:
        result = self.run("login", "--url", server.url, stdin=account.token + "\n")
        assert result.returncode == 0, result.stderr


@pytest.fixture
def holder(tmp_path: Path) -> Holder:
    return Holder(tmp_path / "config")


def one_error_line(result: subprocess.CompletedProcess[str], status: int = 1) -> str:
    """The single ``error: ...`` line a failed command prints, after checking its status."""
    assert result.returncode == status, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]
