"""A SQLite database holds emails, addresses and digests: tokend creates it, and SQLite
its -wal and -shm files, readable by the owner only, whatever the umask lets through."""

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Server
from tokend.storage.engine import make_engine
from tokend.storage.migrate import upgrade


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """The usual umask, under which files are created 0644 unless asked otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def modes(database: Path) -> dict[str, int]:
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    return {path.name: stat.S_IMODE(path.stat().st_mode) for path in files}


def test_serve_creates_the_database_and_its_wal_and_shm_private(tmp_path: Path) -> None:
    database = tmp_path / "tokend.db"
    with Server(database_url=f"sqlite:///{database}", log_path=tmp_path / "log") as server:
        with server.client() as http:
            assert http.get("/readyz").status_code == 200
        assert modes(database) == {"tokend.db": 0o600, "tokend.db-wal": 0o600,
                                   "tokend.db-shm": 0o600}  # fmt: skip


def test_db_upgrade_creates_it_private(tmp_path: Path) -> None:
    env = {**os.environ, "TOKEND_DATABASE_URL": "sqlite:///./relative.db"}
    subprocess.run(
        [sys.executable, "-m", "tokend", "db", "upgrade"], cwd=tmp_path, env=env, check=True
    )
    assert stat.S_IMODE((tmp_path / "relative.db").stat().st_mode) == 0o600


def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    database = tmp_path / "shared.db"
    database.touch()
    database.chmod(0o640)  # the operator's choice, e.g. for a backup group
    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
            assert stat.S_IMODE(database.stat().st_mode) == 0o640
    finally:
        engine.dispose()
