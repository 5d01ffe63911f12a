"""The README's Python examples, run as written against a live server."""

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Account
from tests.support import Server, serving

README = Path(__file__).resolve().parent.parent / "README.md"


def example(marker: str) -> str:
    blocks: list[str] = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    return next(block for block in blocks if marker in block)


def test_the_client_example_runs(server: Server, alice: Account) -> None:
    example_code = example("from tokend import")
    env = {**os.environ, "TOKEND_URL": server.url, "TOKEND_TOKEN": alice.token}

    run = subprocess.run(
        [sys.executable, "-c", example_code], env=env, capture_output=True, text=True, timeout=60
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == alice.username
    assert "404 not_found" in run.stdout


def test_the_verify_example_runs(database_url: str, alice: Account) -> None:
    code = example("from tokend.verify import").replace("sqlite:///./tokend.db", database_url)
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    headers = {"Authorization": f"Bearer {alice.token}"}
    try:
        with serving(namespace["app"]) as url:
            whoami = httpx.get(f"{url}/whoami", headers=headers)
            assert whoami.json() == {"user": alice.username, "token": alice.token_id, "team": None}
            reports = httpx.get(f"{url}/reports", headers=headers)
            assert reports.json() == [f"report for {alice.username}"]
            assert httpx.get(f"{url}/whoami").status_code == 401
            assert httpx.get(f"{url}/health").status_code == 404  # exempt, and no such route
    finally:
        namespace["verifier"].close()
