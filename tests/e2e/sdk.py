"""What the outside-client tests share: the Node project in tests/e2e/node (the real
`@vercel/sdk`, pinned to exactly 1.28.35 in package.json and package-lock.json) and
running one of its scripts with its inputs in the environment."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import IN_CI

NODE_DIR = Path(__file__).parent / "node"
SDK_VERSION = "1.28.35"
NPM_TIMEOUT_S = 120
NODE_TIMEOUT_S = 60
SECRET = re.compile(r"\btkd_[0-9A-Za-z]{36}\b")


def installed_sdk_version() -> str | None:
    manifest = NODE_DIR / "node_modules" / "@vercel" / "sdk" / "package.json"
    try:
        return str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def install_node_project() -> Path:
    """tests/e2e/node with its locked dependencies installed. Skips without Node.js
    and npm (fails under CI=true)."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        message = f"{' and '.join(missing)} not found on PATH"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)

    manifest = json.loads((NODE_DIR / "package.json").read_text())
    assert manifest["dependencies"]["@vercel/sdk"] == SDK_VERSION, "the SDK pin moved"

    if installed_sdk_version() != SDK_VERSION:
        try:
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"],
                cwd=NODE_DIR,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                check=True,
            )
        except subprocess.CalledProcessError as exc:
            pytest.fail(f"npm ci failed ({exc.returncode}):\n{exc.stdout}\n{exc.stderr}")
        except subprocess.TimeoutExpired:
            pytest.fail(f"npm ci took longer than {NPM_TIMEOUT_S} s")
        assert installed_sdk_version() == SDK_VERSION
    return NODE_DIR


def run_node(script: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with ``env`` added to the environment: secrets travel there,
    never on the command line, where `ps` would show them."""
    try:
        return subprocess.run(
            ["node", script.name],
            cwd=script.parent,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"node {script.name} took longer than {NODE_TIMEOUT_S} s")
