"""Domain objects to wire models."""

import json

from tokend.domain.accounts import User
from tokend.domain.audit import AuditEvent
from tokend.domain.scopes import ScopeType
from tokend.domain.tokens import TOKEN_TYPE, Token
from tokend.domain.webhooks import Delivery, DeliveryStatus
from tokend.domain.webhooks import Webhook as DomainWebhook
from tokend.models import AuditEvent as AuditEventModel
from tokend.models import (
    AuthToken,
    AuthUser,
    TeamScope,
    UserScope,
    WebhookAttempt,
    WebhookDelivery,
)
from tokend.models import Webhook as WebhookModel


def auth_token(token: Token) -> AuthToken:
    scope: UserScope | TeamScope
    if token.scope.type is ScopeType.TEAM:
        assert token.scope.team_id is not None
        scope = TeamScope(
            team_id=token.scope.team_id,
            origin=token.origin.value,
            created_at=token.created_at,
            expires_at=token.expires_at,
        )
    else:
        scope = UserScope(
            origin=token.origin.value, created_at=token.created_at, expires_at=token.expires_at
        )
    return AuthToken(
        id=token.id,
        name=token.name,
        type=TOKEN_TYPE,
        prefix=token.prefix,
        suffix=token.suffix,
        origin=token.origin.value,
        scopes=[scope],
        created_at=token.created_at,
        active_at=token.active_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        leaked_at=token.leaked_at,
        leaked_url=token.leaked_url,
        inactivity_expires_at=token.inactivity_expires_at,
        permissions=None if token.permissions is None else sorted(token.permissions),
    )


def auth_user(user: User) -> AuthUser:
    return AuthUser(
        id=user.id,
        email=user.email,
        name=user.name,
        username=user.username,
        created_at=user.created_at,
    )


def audit_event(event: AuditEvent) -> AuditEventModel:
    return AuditEventModel(
        id=event.id,
        type=event.type.value,
        created_at=event.created_at,
        token_id=event.token_id,
        token=auth_token(event.token) if event.token else None,
        actor_token_id=event.actor_token_id,
        ip=event.requester.ip,
        user_agent=event.requester.user_agent,
    )


def webhook(hook: DomainWebhook) -> WebhookModel:
    return WebhookModel(
        id=hook.id,
        url=hook.url,
        events=list(hook.events),
        team_id=hook.team_id,
        created_at=hook.created_at,
        failing_since=hook.failing_since,
        disabled_at=hook.disabled_at,
    )


def webhook_delivery(delivery: Delivery) -> WebhookDelivery:
    pending = delivery.status is DeliveryStatus.PENDING
    return WebhookDelivery(
        id=delivery.id,
        event_type=delivery.event_type,
        status=delivery.status.value,
        created_at=delivery.created_at,
        attempts=[
            WebhookAttempt(
                attempted_at=attempt.attempted_at,
                duration_ms=attempt.duration_ms,
                status_code=attempt.status_code,
                error=attempt.error,
            )
            for attempt in delivery.attempt_log
        ],
        next_attempt_at=delivery.next_attempt_at if pending else None,
        delivered_at=delivery.delivered_at,
        payload=json.loads(delivery.payload),
    )
