"""``tokend admin permissions add|list|remove``, run as an operator runs them."""

import json
from pathlib import Path

from tests.cli.test_integrations import tokend
from tokend.domain.permissions import BUILTIN


def test_the_catalogue_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalogue.db'}"
    added = tokend(url, "admin", "permissions", "add", "deployments:read",
                   "--description", "Read deployments.", "--format", "json")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["name"] == "deployments:read"

    listed = json.loads(tokend(url, "admin", "permissions", "list", "--format", "json").stdout)
    names = [entry["name"] for entry in listed["permissions"]]
    # tokend's own first, by name, then the catalogue's.
    assert names == [*sorted(BUILTIN), "deployments:read"]
    assert {"tokens:read", "tokens:write", "tokens:rotate-self", "events:read", "user:read"} <= set(
        BUILTIN
    )
    assert "Read deployments." in tokend(url, "admin", "permissions", "list").stdout

    again = tokend(url, "admin", "permissions", "add", "deployments:read", "--description", "x")
    assert again.returncode == 1
    assert "exists already" in again.stderr
    bad = tokend(url, "admin", "permissions", "add", "Deploy Read", "--description", "x")
    assert bad.returncode == 1
    assert "not a permission name" in bad.stderr

    removed = tokend(url, "admin", "permissions", "remove", "deployments:read")
    assert removed.returncode == 0, removed.stderr
    own = tokend(url, "admin", "permissions", "remove", "tokens:read")
    assert own.returncode == 1
    assert "cannot be removed" in own.stderr
