"""Webhooks: registering them (an owner's URL and the event types it wants), and the
outbox, filled in the transaction of each event it reports."""

import json
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tokend.domain import ids
from tokend.domain.audit import AuditEvent
from tokend.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tokend.domain.permissions import Operation
from tokend.domain.principal import Actor
from tokend.domain.sealing import Sealer
from tokend.domain.webhooks import (
    EVENT_TYPES,
    Delivery,
    DeliveryStatus,
    Webhook,
    new_secret,
    parse_url,
    refusal_of_all,
    validate_events,
)
from tokend.service.clock import Clock, system_clock
from tokend.service.ports import StoredWebhook, UnitOfWork, UnitOfWorkFactory

MAX_DELIVERIES_PAGE = 100
SEAL_CONTEXT = "tokend webhook secret"

Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class FormAlreadyUsed(Conflict):
    """An add form older than the user's newest webhook."""


@dataclass(frozen=True, slots=True)
class CreatedWebhook:
    webhook: Webhook
    secret: str  # shown once


@dataclass(frozen=True, slots=True)
class SecretKeeper:
    """Seals webhook secrets at rest when a sealing secret is configured; keeps them
    as they are otherwise (they must be read back to sign, so they cannot be hashed)."""

    sealer: Sealer | None = None

    def store(self, secret: str) -> StoredWebhook:
        if self.sealer is None:
            return StoredWebhook(secret=secret.encode(), sealed=False)
        return StoredWebhook(secret=self.sealer.seal(secret.encode(), SEAL_CONTEXT), sealed=True)

    def open(self, stored: StoredWebhook) -> str:
        if not stored.sealed:
            return stored.secret.decode()
        if self.sealer is None:
            raise RuntimeError("a sealed webhook secret, but TOKEND_SIGNING_KEY_SECRET is not set")
        return self.sealer.open(stored.secret, SEAL_CONTEXT).decode()


@dataclass(frozen=True, slots=True)
class WebhookService:
    uow: UnitOfWorkFactory
    secrets: SecretKeeper = field(default_factory=SecretKeeper)
    allow_private: bool = False
    resolver: Resolver = resolve
    clock: Clock = system_clock

    def create(
        self,
        actor: Actor,
        *,
        url: str,
        events: Sequence[str],
        team_id: str | None = None,
        unless_created_since: int | None = None,
    ) -> CreatedWebhook:
        """A webhook of the actor's user, or of its team when the actor is team-scoped
        or names one of the user's teams (``team_id``, as the web page does).
        ``unless_created_since``: refuse (`FormAlreadyUsed`) if the user made a webhook
        at or after this instant: a web form sent again must not make a second one."""
        actor.ensure_can_manage_tokens()
        actor.ensure_allowed(Operation.MANAGE_WEBHOOKS)
        chosen = validate_events(events)
        destination = parse_url(url, allow_plain_http=self.allow_private)
        reason = refusal_of_all(
            self.resolver(destination.host, destination.port), allow_private=self.allow_private
        )
        if reason:
            raise ValidationFailed(
                f"The URL's host cannot be used ({reason}): webhooks are sent to public "
                "addresses only."
            )
        secret = new_secret()
        stored = self.secrets.store(secret)
        with self.uow(write=True) as uow:
            if unless_created_since is not None:
                # Locks the user's row: two sends of one form cannot both pass.
                newest = uow.webhooks.newest_created_at(actor.user.id)
                if newest is not None and newest >= unless_created_since:
                    raise FormAlreadyUsed(
                        "A webhook was added since this form was shown (was it sent twice?): "
                        "check the list, then add again if you need another."
                    )
            if team_id is not None and (
                uow.accounts.team_of_member(actor.user.id, team_id=team_id) is None
            ):
                # The same answer whether the team is missing or foreign.
                raise Forbidden("The team does not exist or you are not a member of it.")
            webhook = Webhook(
                id=ids.new_webhook_id(),
                user_id=actor.user.id,
                team_id=actor.scope_for_new_token(team_id).team_id,
                url=url,
                events=chosen,
                created_at=self.clock(),
            )
            uow.webhooks.add(webhook, stored.secret, stored.sealed)
            uow.commit()
        return CreatedWebhook(webhook=webhook, secret=secret)

    def list_for(self, actor: Actor) -> list[Webhook]:
        actor.ensure_can_manage_tokens()
        actor.ensure_allowed(Operation.READ_WEBHOOKS)
        with self.uow(one_read=True) as uow:
            return uow.webhooks.list_for(actor.user.id, actor.team_id)

    def get(self, actor: Actor, webhook_id: str) -> Webhook:
        actor.ensure_can_manage_tokens()
        actor.ensure_allowed(Operation.READ_WEBHOOKS)
        with self.uow(one_read=True) as uow:
            return _visible(actor, uow.webhooks.get(webhook_id))

    def delete(self, actor: Actor, webhook_id: str) -> Webhook:
        actor.ensure_can_manage_tokens()
        actor.ensure_allowed(Operation.MANAGE_WEBHOOKS)
        with self.uow(write=True) as uow:
            webhook = _visible(actor, uow.webhooks.get(webhook_id))
            uow.webhooks.remove(webhook.id)
            uow.commit()
        return webhook

    def set_enabled(self, actor: Actor, webhook_id: str, *, enabled: bool) -> Webhook:
        """Pause a webhook (nothing new is queued for it, and what is pending fails, as
        when it is disabled for failing), or turn a disabled one back on, with a fresh
        start: it is no longer failing. Deliveries that failed meanwhile stay failed,
        as resending events days late would surprise more receivers than it helps.
        Turning on one that is on changes nothing, so its failing clock keeps running."""
        actor.ensure_can_manage_tokens()
        actor.ensure_allowed(Operation.MANAGE_WEBHOOKS)
        with self.uow(write=True) as uow:
            webhook = _visible(actor, uow.webhooks.get(webhook_id))
            if enabled:
                uow.webhooks.enable(webhook.id)
            else:
                uow.webhooks.disable(webhook.id, self.clock())
            changed = uow.webhooks.get(webhook.id)
            uow.commit()
        assert changed is not None  # read in the transaction that found it
        return changed

    def deliveries(self, actor: Actor, webhook_id: str, *, limit: int = 20) -> list[Delivery]:
        actor.ensure_can_manage_tokens()
        actor.ensure_allowed(Operation.READ_WEBHOOKS)
        if not 1 <= limit <= MAX_DELIVERIES_PAGE:
            raise ValidationFailed(f"limit must be between 1 and {MAX_DELIVERIES_PAGE}.")
        with self.uow() as uow:
            webhook = _visible(actor, uow.webhooks.get(webhook_id))
            return uow.webhooks.deliveries_of(webhook.id, limit=limit)


def _visible(actor: Actor, webhook: Webhook | None) -> Webhook:
    """A team-scoped actor sees its team's webhooks; anyone else those its user made.
    Any other is answered as missing, so ids of others' webhooks are not confirmed."""
    if webhook is not None:
        if actor.team_id is not None and webhook.team_id == actor.team_id:
            return webhook
        if actor.team_id is None and webhook.user_id == actor.user.id:
            return webhook
    raise NotFound("The webhook was not found.")


def enqueue(uow: UnitOfWork, event: AuditEvent) -> None:
    """Add one delivery per webhook that wants ``event``, in the event's transaction
    (the outbox): a token's events go to its team's webhooks when it is a team token,
    to its user's own webhooks otherwise."""
    if event.type.value not in EVENT_TYPES or event.token is None:
        return
    token = event.token
    wanting = [
        webhook
        for webhook in uow.webhooks.receiving(token.user_id, token.team_id)
        if webhook.wants(event.type.value)
    ]
    if not wanting:
        return
    payload = _payload(event)
    uow.webhooks.add_deliveries(
        [
            Delivery(
                id=ids.new_delivery_id(),
                webhook_id=webhook.id,
                event_type=event.type.value,
                payload=payload,
                created_at=event.created_at,
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at=event.created_at,
            )
            for webhook in wanting
        ]
    )


def _payload(event: AuditEvent) -> str:
    # Imported here: the wire models are the payload's format, and the service layer
    # needs them only for this.
    from tokend.convert import auth_token
    from tokend.models import to_datetime

    assert event.token is not None
    body = {
        "type": event.type.value,
        "timestamp": to_datetime(event.created_at).isoformat().replace("+00:00", "Z"),
        "data": {
            "userId": event.token.user_id,
            "token": auth_token(event.token).model_dump(mode="json", by_alias=True),
        },
    }
    return json.dumps(body, separators=(",", ":"))
