"""``tokend admin create-integration``, ``list-integrations``, ``remove-integration`` and
``rotate-signing-key``, run as an operator runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import SIGNING_KEY_SECRET
from tests.support import Server, database

REDIRECT = "https://app.example/callback"


def tokend(url: str, *args: str, secret: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKEND_")}
    env |= {"TOKEND_DATABASE_URL": url, "COLUMNS": "200"}
    if secret:
        env["TOKEND_SIGNING_KEY_SECRET"] = SIGNING_KEY_SECRET
    result = subprocess.run(
        [sys.executable, "-m", "tokend", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_create_list_remove(backend: str, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        assert tokend(url, "db", "upgrade").returncode == 0
        made = tokend(url, "admin", "create-integration", "Acme", "--redirect-uri", REDIRECT,
                      "--redirect-uri", "http://localhost:3000/cb", "--format", "json")  # fmt: skip
        assert made.returncode == 0, made.stderr
        body = json.loads(made.stdout)
        assert set(body) == {"integration", "clientId", "clientSecret"}
        assert set(body["integration"]) == {"id", "name", "redirectUris"}
        assert body["integration"]["redirectUris"] == [REDIRECT, "http://localhost:3000/cb"]
        assert body["clientSecret"].startswith("tkdcs_")

        listed = tokend(url, "admin", "list-integrations", "--format", "json")
        assert body["clientSecret"] not in listed.stdout
        [entry] = json.loads(listed.stdout)["integrations"]
        assert entry["clientId"] == body["clientId"]

        text = tokend(url, "admin", "list-integrations")
        assert "Acme" in text.stdout
        assert body["clientSecret"] not in text.stdout

        removed = tokend(url, "admin", "remove-integration", body["clientId"])
        assert removed.returncode == 0, removed.stderr
        assert json.loads(tokend(url, "admin", "list-integrations", "--format", "json").stdout) == {
            "integrations": []
        }
        again = tokend(url, "admin", "remove-integration", body["clientId"])
        assert again.returncode == 1
        assert "No integration" in again.stderr


def test_a_bad_redirect_uri_is_refused_with_a_reason(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    refused = tokend(
        url, "admin", "create-integration", "Acme", "--redirect-uri", "http://app.example/cb"
    )
    assert refused.returncode == 1
    assert "use https" in refused.stderr


def test_without_the_signing_secret_the_operator_is_told(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    made = tokend(
        url, "admin", "create-integration", "Acme", "--redirect-uri", REDIRECT, secret=False
    )
    assert made.returncode == 0
    assert "TOKEND_SIGNING_KEY_SECRET is not set" in made.stderr


def test_rotation_reaches_a_running_server(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rotate.db'}"
    env = {"TOKEND_SIGNING_KEY_SECRET": SIGNING_KEY_SECRET}
    with Server(database_url=url, log_path=tmp_path / "serve.log", env=env) as server:
        before = httpx.get(f"{server.url}/.well-known/jwks.json").json()["keys"]
        rotated = tokend(url, "admin", "rotate-signing-key", "--format", "json")
        assert rotated.returncode == 0, rotated.stderr
        kid = json.loads(rotated.stdout)["kid"]
        after = httpx.get(f"{server.url}/.well-known/jwks.json").json()["keys"]
        assert {key["kid"] for key in after} == {before[0]["kid"], kid}
        assert all("d" not in key and "p" not in key for key in after)  # public halves only
