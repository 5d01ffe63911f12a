"""The README's Python client example, run as written against a live server."""

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import Account
from tests.support import Server

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_client_example_runs(server: Server, alice: Account) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    example = next(block for block in blocks if "from tokend import" in block)
    env = {**os.environ, "TOKEND_URL": server.url, "TOKEND_TOKEN": alice.token}

    run = subprocess.run(
        [sys.executable, "-c", example], env=env, capture_output=True, text=True, timeout=60
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == alice.username
    assert "404 not_found" in run.stdout
