"""The package's public face: light imports, `python -m tokend`, the console script."""

import subprocess
import sys

import pytest

SERVER_STACK = "{'fastapi', 'starlette', 'sqlalchemy', 'alembic', 'uvicorn', 'psycopg'}"


@pytest.mark.parametrize(
    "imports",
    [
        "import tokend, tokend.models",
        "from tokend import Client, AsyncClient, APIError",
        # The token holders' commands load the CLI, but not the server.
        "import tokend.cli.app",
    ],
)
def test_client_side_imports_leave_the_server_stack_unloaded(imports: str) -> None:
    code = f"import sys; {imports}; print(sorted({SERVER_STACK} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_client_names_are_the_package_names() -> None:
    import tokend
    import tokend.client

    assert tokend.Client is tokend.client.Client
    assert tokend.AsyncClient is tokend.client.AsyncClient
    assert issubclass(tokend.client.NotFound, tokend.APIError)
    with pytest.raises(AttributeError):
        _ = tokend.Nothing


def test_python_dash_m_tokend_shows_the_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tokend", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("serve", "db", "admin", "login", "logout", "whoami", "tokens"):
        assert command in out.stdout
