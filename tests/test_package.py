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
        "from tokend import RetryPolicy, NO_RETRIES, NotFound, ServerUnreachable, ClientError",
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
    # Everything the README names, importable from the package itself.
    for name in set(tokend.__all__) - {"__version__"}:
        assert getattr(tokend, name) is getattr(tokend.client, name)
    assert set(tokend.__all__) - {"__version__"} >= {
        "RetryPolicy", "NO_RETRIES", "NotFound", "ServerUnreachable", "AuthenticationFailed",
        "PermissionDenied", "RateLimited", "ServiceUnavailable", "ClientError", "APIError",
    }  # fmt: skip


def test_python_dash_m_tokend_shows_the_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tokend", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("serve", "db", "admin", "login", "logout", "whoami", "tokens"):
        assert command in out.stdout


def test_version() -> None:
    import tokend

    out = subprocess.run(
        [sys.executable, "-m", "tokend", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout == f"tokend {tokend.__version__}\n"


def _command_paths() -> list[list[str]]:
    import typer.main

    from tokend.cli.app import app

    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


def test_flags_show_no_value_type_in_help() -> None:
    from typer.testing import CliRunner

    from tokend.cli.app import app

    paths = _command_paths()
    assert ["tokens", "rm"] in paths
    assert ["logout"] in paths
    for path in paths:
        result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (path, result.output)
        assert "--help" in result.output
        assert "<bool>" not in result.output, (path, result.output)
    # Options that take a value still say which.
    shown = CliRunner().invoke(app, ["tokens", "ls", "--help"], env={"COLUMNS": "200"})
    assert "<int" in shown.output
