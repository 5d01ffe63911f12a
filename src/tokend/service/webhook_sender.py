"""The webhook sender: a background thread in each serving process that takes due
deliveries from the outbox (a lease, so one sender at a time has each), POSTs them,
signed, and records every attempt; failures are tried again on the retry schedule.

Sent at least once: a sender that dies mid-attempt leaves its lease to run out, and
the delivery is sent again (with the same webhook-id, for receivers to drop repeats)."""

import ipaddress
import logging
import ssl
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks import Webhook as Signer

from tokend.domain.audit import NOBODY, EventType
from tokend.domain.errors import ValidationFailed
from tokend.domain.webhooks import (
    Attempt,
    DeliveryStatus,
    next_attempt_at,
    parse_url,
    refusal_of_all,
)
from tokend.metrics import WEBHOOK_DELIVERIES, WEBHOOK_OLDEST_PENDING_AGE, WEBHOOK_OUTBOX_DEPTH
from tokend.service.audit import record
from tokend.service.background import BackgroundThread
from tokend.service.clock import Clock, system_clock
from tokend.service.ports import ClaimedDelivery, UnitOfWork, UnitOfWorkFactory
from tokend.service.webhooks import Resolver, SecretKeeper, resolve
from tokend.tls import client_context

log = logging.getLogger("tokend.webhooks")

TIMEOUT_S = 10.0
BATCH = 8  # deliveries in flight at once, per process
# Woken by a worker that has finished, the sender claims again only once this many
# are idle (or at the next poll): claiming for each worker as it frees would cost a
# claim (three statements and a commit) per delivery, a third of a delivery's CPU.
REFILL_AT = BATCH // 2
# Longer than an attempt can take (resolution, then the 10 s timeout), so a lease
# outlives its sender only when the sender has died.
LEASE_MS = 30_000
POLL_INTERVAL_S = 1.0
DEPTH_INTERVAL_S = 5.0
USER_AGENT = "tokend-webhooks"


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        secrets: SecretKeeper,
        *,
        retry_delays_ms: Sequence[int],
        disable_after_ms: int,
        allow_private: bool = False,
        resolver: Resolver = resolve,
        clock: Clock = system_clock,
        poll_interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        self._uow = uow
        self._secrets = secrets
        self._delays = tuple(retry_delays_ms)
        self._disable_after_ms = disable_after_ms
        self._allow_private = allow_private
        self._resolver = resolver
        self._clock = clock
        self._poll_interval_s = poll_interval_s
        self._thread = BackgroundThread("tokend-webhooks", self._run)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._busy = 0  # deliveries handed to workers and not yet recorded
        self._wake = threading.Event()
        # No proxies from the environment: the address checked is the one connected to.
        # Certificates checked against the system's store too (tokend.tls), where a
        # private CA for internal receivers is added.
        self._http = httpx.Client(
            timeout=TIMEOUT_S,
            follow_redirects=False,
            trust_env=False,
            headers={},
            verify=client_context(),
        )

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=BATCH, thread_name_prefix="tokend-webhook")
        self._thread.start()

    def close(self) -> None:
        self._thread.stopping.set()
        self._wake.set()  # out of its wait at once
        self._thread.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._http.close()

    def _run(self, stopping: threading.Event) -> None:
        last_depth = 0.0
        at_least = 1  # idle workers wanted before claiming
        while not stopping.is_set():
            claimed = 0
            try:
                claimed = self.send_due(at_least=at_least)
                if time.monotonic() - last_depth >= DEPTH_INTERVAL_S:
                    last_depth = time.monotonic()
                    self._measure()
            except Exception as error:  # the thread outlives a database outage
                log.warning("webhook sender: %s", type(error).__name__)
            if not claimed:
                # Until the next poll, or until a worker is free again. At a poll,
                # any idle worker is worth a claim: those that are not idle may be
                # held by a receiver that hangs, and must not hold up the others'
                # deliveries for longer than a poll.
                woken = self._wake.wait(self._poll_interval_s)
                self._wake.clear()
                at_least = REFILL_AT if woken else 1

    def _measure(self) -> None:
        with self._uow(one_read=True) as uow:
            depth = uow.webhooks.depth(self._clock())
        WEBHOOK_OUTBOX_DEPTH.set(depth.pending)
        WEBHOOK_OLDEST_PENDING_AGE.set(depth.oldest_age_ms / 1000)

    def send_due(self, *, at_least: int = 1) -> int:
        """Claim due deliveries, as many as there are idle workers (none unless there
        are ``at_least``), and hand each to one: a receiver that hangs holds up one
        worker, not the others' deliveries. Without workers (not started), send them
        here and now. How many were claimed."""
        with self._lock:
            free = BATCH - self._busy if self._pool is not None else BATCH
        if free < max(1, at_least):
            return 0
        now = self._clock()
        lease_until = now + LEASE_MS
        with self._uow(write=True) as uow:
            claimed = uow.webhooks.claim_due(now, lease_until, free)
            uow.commit()
        if self._pool is None:
            for item in claimed:
                self._deliver(item, lease_until)
            return len(claimed)
        with self._lock:
            self._busy += len(claimed)
        for item in claimed:
            self._pool.submit(self._deliver_on_worker, item, lease_until)
        return len(claimed)

    def _deliver_on_worker(self, claimed: ClaimedDelivery, lease_until: int) -> None:
        try:
            self._deliver(claimed, lease_until)
        except Exception as error:  # the lease runs out and the delivery is tried again
            log.warning("webhook delivery %s: %s", claimed.delivery.id, type(error).__name__)
        finally:
            with self._lock:
                self._busy -= 1
            self._wake.set()

    def _deliver(self, claimed: ClaimedDelivery, lease_until: int) -> None:
        delivery = claimed.delivery
        if claimed.webhook_disabled:
            with self._uow(write=True) as uow:
                uow.webhooks.fail_pending_of_disabled(delivery.id)
                uow.commit()
            return
        started = self._clock()
        outcome = self._send(claimed)
        attempts = delivery.attempts + 1
        now = self._clock()
        if outcome.delivered:
            status, next_at = DeliveryStatus.DELIVERED, now
        else:
            retry_at = next_attempt_at(delivery.created_at, attempts, now, self._delays)
            status = DeliveryStatus.FAILED if retry_at is None else DeliveryStatus.PENDING
            next_at = now if retry_at is None else retry_at
        attempt = Attempt(started, outcome.duration_ms, outcome.status_code, outcome.error)
        with self._uow(write=True) as uow:
            if not uow.webhooks.record_attempt(
                delivery.id, lease_until, attempt, status=status, next_attempt_at=next_at
            ):
                return  # the lease ran out and another sender has it now
            if outcome.delivered:
                uow.webhooks.mark_succeeded(delivery.webhook_id)
            else:
                failing_since = uow.webhooks.mark_failing(delivery.webhook_id, now)
                if failing_since is not None and now - failing_since >= self._disable_after_ms:
                    self._disable(uow, delivery.webhook_id, now)
            uow.commit()
        outcome_label = "delivered" if outcome.delivered else status.value
        WEBHOOK_DELIVERIES.labels("retrying" if outcome_label == "pending" else outcome_label).inc()

    def _disable(self, work: UnitOfWork, webhook_id: str, now: int) -> None:
        webhook = work.webhooks.get(webhook_id)
        if webhook is None or not work.webhooks.disable(webhook_id, now):
            return
        record(
            work,
            EventType.WEBHOOK_DISABLED,
            now=now,
            token=None,
            actor=None,
            requester=NOBODY,
            user_id=webhook.user_id,
        )
        log.warning("webhook %s disabled: failing since %s", webhook_id, webhook.failing_since)

    def _send(self, claimed: ClaimedDelivery) -> Outcome:
        started = time.monotonic()

        def done(status_code: int | None, error: str | None) -> Outcome:
            return Outcome(status_code, error, int((time.monotonic() - started) * 1000))

        try:
            destination = parse_url(claimed.url, allow_plain_http=self._allow_private)
        except ValidationFailed as refused:  # e.g. http:// on a node without the setting
            return done(None, f"refused: {refused}")
        addresses = self._resolver(destination.host, destination.port)
        reason = refusal_of_all(addresses, allow_private=self._allow_private)
        if reason:
            return done(None, f"refused: {reason}")
        delivery = claimed.delivery
        secret = self._secrets.open(claimed.secret)
        timestamp = datetime.now(UTC)
        signature = Signer(secret).sign(delivery.id, timestamp, delivery.payload)
        parts = urlsplit(claimed.url)
        # Connect to the address just checked, not to whatever a second resolution
        # would give (DNS rebinding); the name still goes in Host and in TLS's SNI,
        # against which the certificate is verified.
        address = addresses[0]
        literal = f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
        target = urlunsplit(
            (parts.scheme, f"{literal}:{destination.port}", parts.path or "/", parts.query, "")
        )
        headers = {
            "host": parts.netloc,
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": delivery.id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature,
        }
        extensions = {"sni_hostname": destination.host} if parts.scheme == "https" else {}
        try:
            response = self._http.post(
                target, content=delivery.payload.encode(), headers=headers, extensions=extensions
            )
        except httpx.TimeoutException:
            return done(None, f"timed out after {TIMEOUT_S:g} s")
        except httpx.ConnectError as error:
            if _certificate_refused(error):
                return done(None, "TLS: the receiver's certificate could not be verified")
            return done(None, "could not connect")
        except httpx.HTTPError as error:
            return done(None, f"HTTP error: {type(error).__name__}")
        return done(response.status_code, None if response.is_success else "not a 2xx answer")


def _certificate_refused(error: BaseException) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False
