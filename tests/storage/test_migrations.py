"""The Alembic migrations build exactly the schema the code expects, on both databases."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from tests.support import database
from tokend.storage import migrate
from tokend.storage.engine import make_engine
from tokend.storage.schema import metadata


@pytest.fixture
def empty_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    with database(backend, tmp_path) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def test_upgrade_matches_the_schema_module(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision()
    with empty_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_downgrade_then_upgrade_again(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_engine)
    assert {"users", "teams", "memberships", "tokens"} <= set(
        inspect(empty_engine).get_table_names()
    )


def test_ensure_current_sets_up_only_an_empty_sqlite(backend: str, empty_engine: Engine) -> None:
    if backend == "sqlite":
        migrate.ensure_current(empty_engine)
        assert migrate.current_revision(empty_engine) == migrate.head_revision()
    else:
        with pytest.raises(migrate.SchemaOutOfDate, match="tokend db upgrade"):
            migrate.ensure_current(empty_engine)


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
