"""The operator commands, run as a person would: as subprocesses, on both databases."""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support import Server, database, free_port
from tokend.storage.migrate import head_revision

HEAD = head_revision()


def tokend(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TOKEND_DATABASE_URL": database_url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "tokend", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_fresh_database_bootstrap_and_serve(backend: str, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        if backend == "postgresql":
            refused = tokend(url, "admin", "create-user", "alice")
            assert refused.returncode == 1
            assert refused.stderr.strip().splitlines() == [
                f"error: The database schema is at revision none but this tokend needs {HEAD}. "
                "Run 'tokend db upgrade' to migrate it."
            ]
            upgraded = tokend(url, "db", "upgrade")
            assert upgraded.returncode == 0, upgraded.stderr
            assert f"upgraded from empty to {HEAD}" in upgraded.stdout
            assert f"already at revision {HEAD}" in tokend(url, "db", "upgrade").stdout

        created = tokend(url, "admin", "create-user", "alice", "--email", "a@example.com",
                         "--name", "Alice Liddell", "--format", "json")  # fmt: skip
        assert created.returncode == 0, created.stderr
        body = json.loads(created.stdout)  # stdout is JSON and nothing else
        assert set(body) == {"user", "token", "bearerToken"}
        assert body["user"]["username"] == "alice"
        assert body["user"]["email"] == "a@example.com"
        assert body["user"]["name"] == "Alice Liddell"
        assert body["token"]["name"] == "bootstrap"
        assert body["token"]["origin"] == "manual"

        with Server(database_url=url, log_path=tmp_path / "serve.log") as server:
            user = httpx.get(
                f"{server.url}/v2/user",
                headers={"Authorization": f"Bearer {body['bearerToken']}"},
            )
            assert user.status_code == 200
            assert user.json()["user"]["id"] == body["user"]["id"]


def test_text_output_shows_the_secret_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'text.db'}"
    created = tokend(url, "admin", "create-user", "bob")
    assert created.returncode == 0, created.stderr
    secrets = [word for word in created.stdout.split() if word.startswith("tkd_")]
    assert len(secrets) == 1
    assert "shown only now" in created.stdout


def test_teams_and_membership(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'teams.db'}"
    assert tokend(url, "admin", "create-user", "owner").returncode == 0
    assert tokend(url, "admin", "create-user", "member").returncode == 0
    team = tokend(url, "admin", "create-team", "acme", "--owner", "owner", "--name", "Acme Inc",
                  "--format", "json")  # fmt: skip
    assert team.returncode == 0, team.stderr
    team_json = json.loads(team.stdout)["team"]
    assert team_json["id"].startswith("team_")
    assert (team_json["slug"], team_json["name"]) == ("acme", "Acme Inc")

    added = tokend(url, "admin", "add-member", "acme", "member", "--format", "json")
    assert json.loads(added.stdout)["added"] is True
    again = tokend(url, "admin", "add-member", "acme", "member")
    assert again.returncode == 0
    assert "Already a member" in again.stdout


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'errors.db'}"
    assert tokend(url, "admin", "create-user", "carol").returncode == 0
    cases = {
        ("admin", "create-user", "carol"): "error: An account named 'carol' already exists.",
        ("admin", "create-user", "Bad Name"): "error: Invalid username",
        ("admin", "create-team", "acme", "--owner", "nobody"): "error: No user is named",
        ("admin", "add-member", "nope", "carol"): "error: No team has the slug 'nope'.",
    }
    for args, expected in cases.items():
        result = tokend(url, *args)
        assert result.returncode == 1, args
        assert result.stderr.startswith(expected), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr


def test_bad_configuration_is_reported_plainly() -> None:
    result = tokend("mysql://nowhere/x", "db", "upgrade")
    assert result.returncode == 1
    assert result.stderr.startswith("error: invalid configuration: TOKEND_DATABASE_URL")
    unreachable = tokend(f"postgresql://postgres@127.0.0.1:{free_port()}/x", "db", "upgrade")
    assert unreachable.returncode == 1
    assert "unreachable" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
