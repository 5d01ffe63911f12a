"""Leak reports: a secret found in public is revoked at once, and the event recorded."""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from tokend.domain.audit import EventType, Requester
from tokend.domain.digest import Digester
from tokend.domain.errors import MalformedSecret
from tokend.domain.secret import SecretFormat
from tokend.domain.tokens import leaked_url
from tokend.service.audit import record
from tokend.service.clock import Clock, system_clock
from tokend.service.ports import UnitOfWorkFactory

log = logging.getLogger("tokend.leaks")


@dataclass(frozen=True, slots=True)
class Finding:
    """A string a scanner found, and where."""

    secret: str
    url: str | None

    def __repr__(self) -> str:
        return f"Finding(secret='***', url={self.url!r})"


@dataclass(frozen=True, slots=True)
class LeakService:
    uow: UnitOfWorkFactory
    secret_format: SecretFormat
    digester: Digester
    # As TokenService.revoked: this process's cache forgets the token at once.
    revoked: Callable[[str], None]
    clock: Clock = system_clock

    def report(self, findings: Sequence[Finding], requester: Requester) -> list[bool]:
        """Revoke each finding that is one of our live tokens, marked leaked with its
        URL; for each, whether it was (a true positive).

        Each finding is handled in a transaction of its own, and one that fails (the
        database went away) never stops the others: they are all tried, then the
        first failure is raised, so that the report is answered as failed and sent
        again."""
        confirmed: list[bool] = []
        failure: Exception | None = None
        for finding in findings:
            try:
                confirmed.append(self._report_one(finding, requester))
            except Exception as error:
                log.warning("a leak finding failed: %s", type(error).__name__)
                failure = failure or error
                confirmed.append(False)
        if failure is not None:
            raise failure
        return confirmed

    def _report_one(self, finding: Finding, requester: Requester) -> bool:
        try:
            self.secret_format.check(finding.secret)  # before the database, always
        except MalformedSecret:
            return False
        digest = self.digester.digest(finding.secret)
        with self.uow(write=True) as uow:
            found = uow.tokens.get_with_owner(digest)
            now = self.clock()
            if found is None or not found[0].is_live(now):
                return False
            token = found[0]
            url = leaked_url(finding.url)
            if not uow.tokens.revoke(token.id, now, leaked=True, leaked_url=url):
                return False  # revoked by someone else since it was read
            leaked = replace(token, revoked_at=now, leaked_at=now, leaked_url=url)
            record(
                uow,
                EventType.TOKEN_LEAKED,
                now=now,
                token=leaked,
                actor=None,
                requester=requester,
            )
            uow.commit()
        self.revoked(token.id)
        return True
