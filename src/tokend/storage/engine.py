"""Engines for SQLite (the embedded default) and PostgreSQL (psycopg 3)."""

import math
import os
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url

from tokend.storage.deadlines import DEADLINES

WRITE_OPTION = "tokend_write"
MIGRATION_CONNECT_S = 10
_DEADLINE_KEY = "tokend_deadline"


def normalize_url(url: str | URL) -> URL:
    """Pick psycopg 3 for ``postgresql://`` URLs, so users can write the usual form."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, *, timeout_s: float | None = None) -> Engine:
    """``timeout_s``: how long any one use of a connection (a checkout: a request's
    transaction, a probe, a batch write) may take, connecting included, before it fails
    as unreachable. None for migrations, which may rightly take long (they still get a
    connect timeout)."""
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
    engine = create_engine(
        parsed,
        hide_parameters=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=timeout_s if timeout_s is not None else 30,
        connect_args={"connect_timeout": max(2, math.ceil(timeout_s or MIGRATION_CONNECT_S))},
    )
    if timeout_s is not None:
        _bound_postgres(engine, timeout_s)
    return engine


def _bound_postgres(engine: Engine, timeout_s: float) -> None:
    """Every checkout must end within ``timeout_s``: the server is told (for a server
    that runs but is slow, or waits on a lock), and so is the socket watchdog (for one
    that does not run at all, or cannot be reached)."""
    timeout_ms = max(1, round(timeout_s * 1000))
    what = f"within TOKEND_DATABASE_TIMEOUT_S ({timeout_s:g} s)"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with DEADLINES.watch(dbapi_connection.pgconn.socket, timeout_s, what):
            cursor = dbapi_connection.cursor()
            cursor.execute(
                f"SET statement_timeout = {timeout_ms}; SET lock_timeout = {timeout_ms}; "
                f"SET idle_in_transaction_session_timeout = {2 * timeout_ms}"
            )
            cursor.close()
            dbapi_connection.commit()  # a SET rolled back would be undone

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        try:
            fd = dbapi_connection.pgconn.socket
        except psycopg.Error:
            return  # already broken: its first statement fails at once
        record.record_info[_DEADLINE_KEY] = DEADLINES.add(fd, timeout_s, what)

    def _release(record: Any) -> None:
        key = record.record_info.pop(_DEADLINE_KEY, None)
        if key is not None:
            DEADLINES.remove(key)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        _release(record)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(_dbapi_connection: Any, record: Any, _exception: Any) -> None:
        _release(record)


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
