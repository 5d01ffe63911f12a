"""How a process hears of revocations made by the others sharing its database.

PostgreSQL: ``LISTEN`` on a dedicated connection; the revoking transaction sends
``NOTIFY`` (see the repository), delivered to every node at commit, in milliseconds.
SQLite (processes of one machine): each process reads the revocation log every
``interval_s``, a primary-key range scan of a table holding the last hour. Either
way, a feed that may have missed something (a lost connection, a gap in the log)
says so, and the cache is emptied rather than trusted.
"""

import contextlib
import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError

from tokend.service.background import BackgroundThread
from tokend.service.ports import RevocationFeed
from tokend.storage.repository import REVOCATION_CHANNEL
from tokend.storage.schema import token_revocations

logger = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.2
RECONNECT_DELAY_S = 1.0


class _Feed:
    """A feed on a background thread; subclasses say what it does there (`_run`)."""

    def __init__(self) -> None:
        self._thread = BackgroundThread("tokend-revocations", self._run)
        self._on_revoked: Callable[[str], None] = lambda _token_id: None
        self._on_gap: Callable[[], None] = lambda: None

    def start(self, on_revoked: Callable[[str], None], on_gap: Callable[[], None]) -> None:
        self._on_revoked, self._on_gap = on_revoked, on_gap
        self._prepare()
        self._thread.start()

    def close(self) -> None:
        self._thread.stop()

    def _prepare(self) -> None:
        """Runs in `start`, before the thread: what must hold from the first request on."""

    def _run(self, stopping: threading.Event) -> None:
        raise NotImplementedError


class SqlitePollingFeed(_Feed):
    def __init__(self, engine: Engine, interval_s: float = POLL_INTERVAL_S) -> None:
        super().__init__()
        self._engine = engine
        self.interval_s = interval_s
        self._last_seq = 0

    def _prepare(self) -> None:
        # Revocations before this process started concern no cache of it.
        with self._engine.connect() as conn:
            self._last_seq = conn.execute(select(func.max(token_revocations.c.seq))).scalar() or 0

    def poll(self) -> None:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(token_revocations.c.seq, token_revocations.c.token_id)
                .where(token_revocations.c.seq > self._last_seq)
                .order_by(token_revocations.c.seq)
            ).all()
        if rows and rows[0].seq != self._last_seq + 1:
            # Pruned before this process read them (it slept for over an hour).
            self._on_gap()
        for row in rows:
            self._on_revoked(row.token_id)
        if rows:
            self._last_seq = rows[-1].seq

    def _run(self, stopping: threading.Event) -> None:
        while not stopping.wait(self.interval_s):
            try:
                self.poll()
            except DBAPIError:
                logger.warning("cannot read the revocation log; retrying", exc_info=True)


class PostgresListenFeed(_Feed):
    def __init__(self, engine: Engine, wait_s: float = 0.5) -> None:
        super().__init__()
        # psycopg wants a libpq URL: the SQLAlchemy one without "+psycopg".
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._wait_s = wait_s
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def _prepare(self) -> None:
        # Listening before the first request is served: no revocation falls between.
        # If the database is away now, the thread keeps trying (and empties the cache).
        try:
            self._conn = self._connect()
        except psycopg.Error:
            logger.warning("cannot LISTEN for revocations yet; retrying in the background")

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
        conn.execute(f"LISTEN {REVOCATION_CHANNEL}")
        return conn

    def _run(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            try:
                if self._conn is None:
                    self._conn = self._connect()
                    # Revocations made while we were not listening are unknown.
                    self._on_gap()
                for notification in self._conn.notifies(timeout=self._wait_s):
                    self._on_revoked(notification.payload)
            except psycopg.Error:
                # Deaf from now until reconnected: what the cache holds can no longer be
                # kept true, so it is emptied now (and again at each failed attempt, in
                # case requests refilled it from the database meanwhile).
                self._on_gap()
                logger.warning("revocation listener lost its connection; reconnecting")
                self._drop_connection()
                stopping.wait(RECONNECT_DELAY_S)
        self._drop_connection()

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None


def revocation_feed(engine: Engine) -> RevocationFeed:
    if engine.dialect.name == "postgresql":
        return PostgresListenFeed(engine)
    return SqlitePollingFeed(engine)
