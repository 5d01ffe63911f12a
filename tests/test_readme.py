"""The README's Python examples, run as written against a live server."""

import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Account
from tests.support import Server, serving
from tokend.bootstrap import Services
from tokend.domain.errors import Conflict

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
    code = example("app.add_middleware(BearerAuthMiddleware").replace(
        "sqlite:///./tokend.db", database_url
    )
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


# A block preceded by this comment is not run: it needs the outside world (GitHub's
# keys), another database, or runs until stopped (command 1: the test starts its own).
SKIP = "<!-- readme-test: skip"

# Runs before the blocks. A reader sees an error answer that `curl -s` prints; here it
# also stops the run, as any failing command does.
PRELUDE = """\
set -Eeuo pipefail
trap 'echo "README example failed (status $?): $BASH_COMMAND" >&2' ERR
curl() {
    command curl --fail-with-body "$@" && return
    local status=$?
    echo "curl failed: $*" >&2
    return $status
}
"""


def shell_examples() -> list[str]:
    """The README's ```sh blocks, in order, less those marked to skip."""
    found = re.finditer(r"(<!--[^\n]*-->\n)?```sh\n(.*?)```", README.read_text(), re.DOTALL)
    return [m.group(2) for m in found if not (m.group(1) or "").startswith(SKIP)]


def test_the_shell_examples_run_in_order_in_a_fresh_shell(tmp_path: Path) -> None:
    venv = Path(sys.prefix)
    if venv == Path(sys.base_prefix):
        pytest.skip("the README's examples use a venv, and this Python is not one")
    # The folder of command 1: .venv (this one) and the server's ./tokend.db.
    folder = tmp_path / "tokend"
    folder.mkdir()
    (folder / ".venv").symlink_to(venv)
    home = tmp_path / "home"
    home.mkdir()
    blocks = shell_examples()
    assert len(blocks) >= 4  # the walkthrough, teams, the CLI, rotation and the rest
    database = f"sqlite:///{folder / 'tokend.db'}"
    # Command 1, but on a free port: every URL in the examples is pointed at it.
    with Server(database_url=database, log_path=tmp_path / "server.log") as server:
        script = PRELUDE + "\n".join(blocks).replace("http://127.0.0.1:8000", server.url)
        run = subprocess.run(
            ["bash", "-c", script],
            cwd=folder,
            # A fresh shell: no venv on PATH, no TOKEND_* variables, a home of its own.
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, f"{run.stderr}\n--- stdout:\n{run.stdout}"
        assert "Traceback" not in run.stderr
        out = run.stdout
        assert '"username":"alice"' in out  # GET /v2/user
        assert '"tokenId":' in out  # the DELETE of the token just made
        assert "Added bob in team acme" in out
        assert "Logged in to" in out
        assert re.search(r"^Revoked [0-9A-Za-z]{24}\.$", out, re.MULTILINE)
        assert '"active":true' in out  # introspection of $TOKEN, still live at the end
        assert "token.rotated" in out  # the events
        # The reader's folder holds what command 1 made, and nothing else of theirs.
        assert (home / ".config" / "tokend" / "config.toml").exists()
        with httpx.Client(base_url=server.url) as http:
            assert http.get("/readyz").status_code == 200


def test_the_permission_example_runs(database_url: str, services: Services, alice: Account) -> None:
    with contextlib.suppress(Conflict):  # the database is shared by the session's tests
        services.permissions.add("deployments:read", "Read deployments.")
    code = example("can_read_deployments").replace("sqlite:///./tokend.db", database_url)
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    caller = services.authenticator.authenticate(alice.token)
    reader = services.tokens.create(caller, name="ci", permissions=["deployments:read"]).secret
    other = services.tokens.create(caller, name="ci", permissions=["user:read"]).secret
    try:
        with serving(namespace["app"]) as url:
            allowed = httpx.get(f"{url}/deployments", headers={"Authorization": f"Bearer {reader}"})
            assert allowed.json() == [f"deployments of {alice.username}"]
            refused = httpx.get(f"{url}/deployments", headers={"Authorization": f"Bearer {other}"})
            assert refused.status_code == 403
    finally:
        namespace["verifier"].close()
