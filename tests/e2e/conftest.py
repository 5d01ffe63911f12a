"""The Node project of the outside-client tests, installed once per run."""

from pathlib import Path

import pytest

from tests.e2e.sdk import install_node_project


@pytest.fixture(scope="session")
def node_project() -> Path:
    """tests/e2e/node with its locked dependencies installed."""
    return install_node_project()


@pytest.fixture(scope="session")
def node_client(node_project: Path) -> Path:
    """The script that drives the token endpoints with the SDK."""
    return node_project / "sdk_client.mjs"
