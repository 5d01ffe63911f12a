"""How a process hears of revocations made by the others sharing its database.

PostgreSQL: ``LISTEN`` on a dedicated connection; the revoking transaction sends
``NOTIFY`` (see the repository), delivered to every node at commit, in milliseconds.
SQLite (processes of one machine): each process reads the revocation log every
``interval_s``, a primary-key range scan of a table holding the last hour.

A feed that is silent may be deaf: a connection cut without a word (a frozen proxy, a
partition) delivers nothing, exactly like a quiet database. So a feed never asks to be
trusted for long: it proves itself again and again (`on_heard(t)`: every revocation
committed before wall-clock time ``t`` has been delivered), and the cache serves only
within a short while of the last proof. The SQLite feed's proof is each successful
poll. The PostgreSQL feed sends itself a heartbeat, ``NOTIFY`` on a channel of its
own, every `HEARTBEAT_S`: notifications reach a listener in commit order, so hearing
the heartbeat back means every revocation committed before it was sent has been heard.
A feed that may have missed something (a lost connection, a gap in the log) says so
(`on_gap`), and the cache is emptied rather than trusted.
"""

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable

import psycopg
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError

from tokend.service.background import BackgroundThread
from tokend.service.ports import RevocationFeed
from tokend.storage.deadlines import DEADLINES
from tokend.storage.repository import REVOCATION_CHANNEL
from tokend.storage.schema import token_revocations

logger = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.2
HEARTBEAT_S = 0.2
RECONNECT_DELAY_S = 1.0
FEED_APPLICATION_NAME = "tokend revocation feed"  # how operators find it in pg_stat_activity


def _ignore(*_args: object) -> None:
    pass


class FeedStalled(Exception):
    """The feed's connection is open, but its own heartbeat did not come back in time."""


class _Feed:
    """A feed on a background thread; subclasses say what it does there (`_run`)."""

    def __init__(self) -> None:
        self._thread = BackgroundThread("tokend-revocations", self._run)
        self._on_revoked: Callable[[str], None] = _ignore
        self._on_gap: Callable[[], None] = _ignore
        self._on_heard: Callable[[int], None] = _ignore

    def start(
        self,
        on_revoked: Callable[[str], None],
        on_gap: Callable[[], None],
        on_heard: Callable[[int], None] = _ignore,
    ) -> None:
        self._on_revoked, self._on_gap, self._on_heard = on_revoked, on_gap, on_heard
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
        started_ns = time.time_ns()
        with self._engine.connect() as conn:
            self._last_seq = conn.execute(select(func.max(token_revocations.c.seq))).scalar() or 0
        self._on_heard(started_ns)

    def poll(self) -> None:
        # What was committed before the read began is in what it reads.
        started_ns = time.time_ns()
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
        self._on_heard(started_ns)

    def _run(self, stopping: threading.Event) -> None:
        while not stopping.wait(self.interval_s):
            try:
                self.poll()
            except DBAPIError:
                logger.warning("cannot read the revocation log; retrying", exc_info=True)


class PostgresListenFeed(_Feed):
    def __init__(self, engine: Engine, timeout_s: float = 5.0) -> None:
        super().__init__()
        # psycopg wants a libpq URL: the SQLAlchemy one without "+psycopg".
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._timeout_s = timeout_s
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        # This process's own channel: a heartbeat goes to its sender alone.
        self._beats = f"tokend_heartbeat_{uuid.uuid4().hex}"
        self._beat = 0

    def _prepare(self) -> None:
        # Listening before the first request is served: no revocation falls between.
        # If the database is away now, the thread keeps trying; until a heartbeat
        # comes back the cache serves nothing.
        try:
            self._conn = self._connect()
        except psycopg.Error:
            logger.warning("cannot LISTEN for revocations yet; retrying in the background")

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        conn = psycopg.connect(
            self._conninfo,
            autocommit=True,
            connect_timeout=max(2, round(self._timeout_s)),
            application_name=FEED_APPLICATION_NAME,
        )
        try:
            with self._deadline(conn, "LISTEN"):
                conn.execute(f"LISTEN {REVOCATION_CHANNEL}")
                conn.execute(f"LISTEN {self._beats}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _run(self, stopping: threading.Event) -> None:
        warned_deaf = False
        while not stopping.is_set():
            try:
                if self._conn is None:
                    self._conn = self._connect()
                    # Revocations made while we were not listening are unknown.
                    self._on_gap()
                while not stopping.is_set():
                    self._heartbeat(self._conn)
                    warned_deaf = False
                    self._deliver(self._conn, until=time.monotonic() + HEARTBEAT_S)
            except (psycopg.Error, FeedStalled) as error:
                # Deaf from now until reconnected: what the cache holds can no longer be
                # kept true, so it is emptied (and serves nothing until a heartbeat is
                # heard again on a new connection).
                self._on_gap()
                if isinstance(error, FeedStalled) and not warned_deaf:
                    logger.error(
                        "the revocation feed does not hear its own heartbeat; serving "
                        "uncached until it does. LISTEN needs a session of its own: behind "
                        "PgBouncer, use session pooling (transaction pooling drops it)"
                    )
                    warned_deaf = True
                logger.warning("revocation listener lost its connection; reconnecting")
                self._drop_connection()
                stopping.wait(RECONNECT_DELAY_S)
        self._drop_connection()

    def _heartbeat(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        """NOTIFY ourselves and wait to hear it back: then every revocation committed
        before it was sent has been delivered (notifications arrive in commit order)."""
        self._beat += 1
        beat = str(self._beat)
        sent_ns = time.time_ns()
        with self._deadline(conn, "a revocation-feed heartbeat"):
            conn.execute("SELECT pg_notify(%s, %s)", (self._beats, beat))
        if not self._deliver(conn, until=time.monotonic() + self._timeout_s, beat=beat):
            raise FeedStalled(f"no heartbeat back within {self._timeout_s:g} s")
        self._on_heard(sent_ns)

    def _deliver(
        self,
        conn: psycopg.Connection[tuple[object, ...]],
        *,
        until: float,
        beat: str | None = None,
    ) -> bool:
        """Pass revocations on until ``until`` (monotonic) or, given ``beat``, until that
        heartbeat comes back; whether it did."""
        while (remaining := until - time.monotonic()) > 0:
            for notification in conn.notifies(timeout=remaining):
                if notification.channel == REVOCATION_CHANNEL:
                    self._on_revoked(notification.payload)
                elif beat is not None and notification.payload == beat:
                    return True
        return beat is None

    def _deadline(
        self, conn: psycopg.Connection[tuple[object, ...]], what: str
    ) -> contextlib.AbstractContextManager[None]:
        return DEADLINES.watch(conn.pgconn.socket, self._timeout_s, what)

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None


def revocation_feed(engine: Engine, timeout_s: float = 5.0) -> RevocationFeed:
    if engine.dialect.name == "postgresql":
        return PostgresListenFeed(engine, timeout_s)
    return SqlitePollingFeed(engine)
