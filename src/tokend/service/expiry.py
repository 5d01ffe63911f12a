"""Expiry warnings: a scan, every TOKEND_EXPIRY_SCAN_INTERVAL in each serving process,
gives the notices tokens have become due (tokend.domain.expiry): each in one
transaction that marks it given and records its event (token.expiring or
token.expired, which is what webhook deliveries are made from), then, once that has
committed, hands it to ``notify`` (the email).

Once per token per threshold, across restarts and nodes: the notice's row is
inserted first, ON CONFLICT DO NOTHING; the node whose insert lost records nothing.
The email is best effort: a failure is logged and not retried (the notice is given,
its event recorded and delivered by webhook), so that a broken mail server never
sends the same warning twice nor stalls the scan.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from tokend.domain.audit import NOBODY, EventType
from tokend.domain.expiry import EXPIRED, ExpiryNotice, crossed
from tokend.service.audit import record
from tokend.service.background import BackgroundThread
from tokend.service.clock import Clock, system_clock
from tokend.service.ports import UnitOfWorkFactory

log = logging.getLogger("tokend.expiry")

# A token that expired longer ago than this (tokend was down, or the feature was just
# turned on) gets no token.expired notice: news that old helps nobody, and the first
# scan after an upgrade must not announce every token that ever expired.
EXPIRED_LOOKBACK_MS = 7 * 86_400_000
BATCH = 200


@dataclass
class ExpiryScanner:
    uow: UnitOfWorkFactory
    thresholds_ms: tuple[int, ...]  # largest first (tokend.domain.expiry.normalized)
    interval_s: float
    # Called with each notice after it has committed (the email); None: no email.
    notify: Callable[[ExpiryNotice], None] | None = None
    clock: Clock = system_clock

    def __post_init__(self) -> None:
        self._thread = BackgroundThread("tokend-expiry", self._run)

    def scan(self) -> list[ExpiryNotice]:
        """Give every notice due now; returns those this process gave."""
        now = self.clock()
        thresholds = (*self.thresholds_ms, EXPIRED)
        given: list[ExpiryNotice] = []
        while True:
            with self.uow() as uow:
                due = uow.expiry_notices.due(
                    now, thresholds, expired_since=now - EXPIRED_LOOKBACK_MS, limit=BATCH
                )
            progress = False
            for token_id in due:
                if self._thread.stopping.is_set():
                    return given  # shutting down: the rest are still due, for the next start
                try:
                    marked, notice = self._give(token_id, now)
                except Exception as error:
                    # This token only (a conflict with another node's event for the same
                    # user, say): it stays due, and the next scan tries it again.
                    log.warning(
                        "could not give the expiry notice of token %s: %s; will retry",
                        token_id,
                        type(error).__name__,
                    )
                    continue
                progress = progress or marked
                if notice is not None:
                    given.append(notice)
                    self._notify(notice)
            # A full batch of which nothing could be marked would come back unchanged.
            if len(due) < BATCH or not progress:
                return given

    def _give(self, token_id: str, now: int) -> tuple[bool, ExpiryNotice | None]:
        """Mark the token's crossed thresholds given and record the event of the
        smallest, in one transaction; (whether anything was marked, the notice this
        process gave, if it gave one)."""
        with self.uow(write=True) as uow:
            token = uow.tokens.get(token_id)
            # Read again under the write lock: revoked or renewed since the scan read it.
            if token is None or not token.is_listed or token.expires_at is None:
                return False, None
            first, *larger = crossed(self.thresholds_ms, token.expires_at, now)
            announce = uow.expiry_notices.add(token.id, first, now)
            marked = announce
            for threshold in larger:
                marked = uow.expiry_notices.add(token.id, threshold, now) or marked
            notice = None
            if announce:
                user = uow.accounts.get_user(token.user_id)
                assert user is not None  # a token's user is never deleted
                event = EventType.TOKEN_EXPIRED if first == EXPIRED else EventType.TOKEN_EXPIRING
                record(uow, event, now=now, token=token, actor=None, requester=NOBODY)
                notice = ExpiryNotice(token=token, user=user, threshold_ms=first, at=now)
            uow.commit()
        return marked, notice

    def _notify(self, notice: ExpiryNotice) -> None:
        if self.notify is None:
            return
        try:
            self.notify(notice)
        except Exception as error:
            # The type only: an SMTP error's text may quote the server's reply.
            log.warning(
                "could not email the expiry notice of token %s: %s",
                notice.token.id,
                type(error).__name__,
            )

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._thread.stop()

    def _run(self, stopping: threading.Event) -> None:
        # The first scan one interval after start: a process started to answer a
        # request gets on with it first.
        while not stopping.wait(self.interval_s):
            try:
                self.scan()
            except Exception:
                log.exception("the expiry scan failed; will retry")
