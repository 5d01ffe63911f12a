"""Engines for SQLite (the embedded default) and PostgreSQL (psycopg 3)."""

import os
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url

WRITE_OPTION = "tokend_write"


def normalize_url(url: str | URL) -> URL:
    """Pick psycopg 3 for ``postgresql://`` URLs, so users can write the usual form."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL) -> Engine:
    parsed = normalize_url(url)
    # Parameters are hidden from exception messages: they hold digests and names
    # that have no business in a log.
    if parsed.get_backend_name() == "sqlite":
        _create_private(parsed)
        engine = create_engine(
            parsed, hide_parameters=True, connect_args={"check_same_thread": False, "timeout": 30}
        )
        _configure_sqlite(engine)
        return engine
    # No pool_pre_ping: it costs a round trip on every checkout, a third of a cache
    # miss. A connection the server dropped fails its first statement instead; that
    # request is answered 503 and SQLAlchemy discards every pooled connection at once.
    return create_engine(parsed, hide_parameters=True, pool_size=10, max_overflow=20)


def _create_private(url: URL) -> None:
    """Create a new SQLite database file 0600: it holds emails, addresses and digests.

    SQLite gives the ``-wal`` and ``-shm`` files the database file's mode, so they are
    0600 too. An existing file is left as it is (never loosened).
    """
    path = url.database
    if not path or path == ":memory:" or path.startswith("file:") or url.query.get("uri"):
        return
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError:
        return  # exists already, or cannot be created: SQLite says so when it opens it
    os.close(descriptor)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so "begin" below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A write transaction takes the write lock up front: a deferred one that
        # reads first fails outright under WAL when another writer got in between.
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
