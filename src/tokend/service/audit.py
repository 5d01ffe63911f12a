"""The audit trail: events are written in the transaction that makes them, and read
back by their user, newest first."""

import logging
from dataclasses import dataclass

from tokend.domain import ids
from tokend.domain.audit import AuditEvent, EventType, Requester
from tokend.domain.errors import ValidationFailed
from tokend.domain.permissions import Operation
from tokend.domain.principal import Actor, Principal
from tokend.domain.tokens import Token
from tokend.metrics import TOKEN_EVENTS
from tokend.service.clock import Clock, system_clock
from tokend.service.ports import UnitOfWork, UnitOfWorkFactory
from tokend.service.webhooks import enqueue

MAX_PAGE = 100

log = logging.getLogger("tokend.audit")


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[AuditEvent]
    next: int | None  # pass as ``until`` for the next older page; None on the last


def record(
    uow: UnitOfWork,
    type: EventType,
    *,
    now: int,
    token: Token | None,
    actor: Actor | None,
    requester: Requester,
    user_id: str | None = None,
) -> AuditEvent:
    """Add an event to the caller's transaction: about ``token`` (its user's log), or
    about the account ``user_id`` (a sign-in, a password change)."""
    TOKEN_EVENTS.labels(type.value).inc()
    stored = uow.audit.add(
        AuditEvent(
            id=ids.new_event_id(),
            type=type,
            created_at=now,
            user_id=token.user_id if token else user_id,
            token_id=token.id if token else None,
            token=token,
            actor_token_id=actor.token_id if actor else None,
            requester=requester,
        )
    )
    # The webhooks' outbox, in the same transaction: no event is sent that did not
    # happen, and none that happened is lost.
    enqueue(uow, stored)
    return stored


def record_account(
    uow: UnitOfWork, type: EventType, *, now: int, user_id: str | None, requester: Requester
) -> AuditEvent:
    """An event about an account (a sign-in, a password change), in its user's log;
    ``user_id`` None for a failed sign-in of an unknown name (kept for operators)."""
    return record(uow, type, now=now, token=None, actor=None, requester=requester, user_id=user_id)


@dataclass(frozen=True, slots=True)
class AuditService:
    uow: UnitOfWorkFactory
    clock: Clock = system_clock

    def record_rate_limited(self, requester: Requester, refused: Principal | None = None) -> None:
        """A rate-limit block: of an address (kept for operators, in no user's log), or
        of a live token refused because of its address (in its user's log). Best
        effort: the 429 matters more than its record, so a failure is only logged."""
        try:
            with self.uow(write=True) as uow:
                record(
                    uow,
                    EventType.AUTH_RATE_LIMITED,
                    now=self.clock(),
                    token=refused.token if refused else None,
                    actor=refused,
                    requester=requester,
                )
                uow.commit()
        except Exception as error:
            log.warning("could not record a rate-limit block: %s", type(error).__name__)

    def list(self, principal: Actor, *, limit: int = 20, until: int | None = None) -> EventPage:
        """The caller's events (a team-scoped token sees its team's only)."""
        principal.ensure_can_manage_tokens()
        principal.ensure_allowed(Operation.LIST_EVENTS)
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}.")
        with self.uow() as uow:
            # One more than asked: whether it comes back says if there is a next page.
            events = uow.audit.list_for(
                principal.user.id, principal.team_id, limit=limit + 1, until=until
            )
        page = events[:limit]
        next_until = page[-1].created_at if len(events) > limit else None
        team_id = principal.team_id
        return EventPage([event.as_seen_from(team_id) for event in page], next=next_until)
