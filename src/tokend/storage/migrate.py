"""Applying and checking the Alembic migrations shipped inside the package."""

from collections.abc import Callable

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from tokend.domain.errors import TokendError


class SchemaOutOfDate(TokendError):
    """The database is not at the revision this tokend needs."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", "tokend.storage:migrations")
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, command.downgrade, revision)


def _run(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    config = _config()
    with engine.begin() as conn:
        # env.py migrates on this connection, in this transaction.
        config.attributes["connection"] = conn
        step(config, revision)


def is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not inspect(conn).get_table_names()


def ensure_current(engine: Engine, *, migrate_empty_sqlite: bool = True) -> None:
    """Refuse to run on a schema that is not at head; set up an empty SQLite file."""
    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return
    if migrate_empty_sqlite and engine.dialect.name == "sqlite" and is_empty(engine):
        upgrade(engine)
        return
    raise SchemaOutOfDate(
        f"The database schema is at revision {current or 'none'} but this tokend needs "
        f"{head}. Run 'tokend db upgrade' to migrate it."
    )
