"""The package's public face: light imports, `python -m tokend`, the console script."""

import subprocess
import sys


def test_client_side_modules_do_not_import_the_server_stack() -> None:
    code = (
        "import sys, tokend, tokend.models; "
        "heavy = {'fastapi', 'starlette', 'sqlalchemy', 'alembic', 'uvicorn', 'psycopg'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_python_dash_m_tokend_shows_the_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tokend", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("serve", "db", "admin"):
        assert command in out.stdout
