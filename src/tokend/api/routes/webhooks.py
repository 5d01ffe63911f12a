"""Webhooks: where the caller's (or its team's) token events are sent."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from tokend.api.dependencies import PrincipalDep, ServicesDep
from tokend.api.routes.responses import errors
from tokend.convert import webhook, webhook_delivery
from tokend.models import (
    CreateWebhookRequest,
    CreateWebhookResponse,
    GetWebhookResponse,
    ListWebhookDeliveriesResponse,
    ListWebhooksResponse,
    UpdateWebhookRequest,
)
from tokend.service.webhooks import MAX_DELIVERIES_PAGE

router = APIRouter(tags=["Webhooks"])

WebhookId = Annotated[str, Path(pattern=r"^wh_[0-9A-Za-z]{1,40}$", description="A webhook id.")]


@router.post(
    "/v1/webhooks",
    response_model=CreateWebhookResponse,
    responses=errors(400, 401, 403),
    summary="Add a webhook",
    description="The caller's own, or its team's when called with a team token. The "
    "signing secret is in this answer only.",
)
def create_webhook(
    body: CreateWebhookRequest, principal: PrincipalDep, services: ServicesDep
) -> CreateWebhookResponse:
    created = services.webhooks.create(principal, url=body.url, events=body.events)
    return CreateWebhookResponse(webhook=webhook(created.webhook), secret=created.secret)


@router.get(
    "/v1/webhooks",
    response_model=ListWebhooksResponse,
    responses=errors(401, 403),
    summary="List webhooks",
)
def list_webhooks(principal: PrincipalDep, services: ServicesDep) -> ListWebhooksResponse:
    return ListWebhooksResponse(
        webhooks=[webhook(hook) for hook in services.webhooks.list_for(principal)]
    )


@router.get(
    "/v1/webhooks/{webhookId}",
    response_model=GetWebhookResponse,
    responses=errors(400, 401, 403, 404),
    summary="Get a webhook",
)
def get_webhook(
    webhookId: WebhookId,  # noqa: N803 - the API's own spelling
    principal: PrincipalDep,
    services: ServicesDep,
) -> GetWebhookResponse:
    return GetWebhookResponse(webhook=webhook(services.webhooks.get(principal, webhookId)))


@router.patch(
    "/v1/webhooks/{webhookId}",
    response_model=GetWebhookResponse,
    responses=errors(400, 401, 403, 404),
    summary="Pause a webhook, or turn a disabled one back on",
    description="`enabled: false` pauses it: no new deliveries are queued for it, and "
    "its pending ones fail. `enabled: true` turns a paused or disabled (failing) "
    "webhook back on, no longer failing; deliveries that failed meanwhile stay failed. "
    "Turning on one that is on changes nothing.",
)
def update_webhook(
    webhookId: WebhookId,  # noqa: N803
    body: UpdateWebhookRequest,
    principal: PrincipalDep,
    services: ServicesDep,
) -> GetWebhookResponse:
    changed = services.webhooks.set_enabled(principal, webhookId, enabled=body.enabled)
    return GetWebhookResponse(webhook=webhook(changed))


@router.delete(
    "/v1/webhooks/{webhookId}",
    response_model=GetWebhookResponse,
    responses=errors(400, 401, 403, 404),
    summary="Remove a webhook, with its deliveries",
)
def delete_webhook(
    webhookId: WebhookId,  # noqa: N803
    principal: PrincipalDep,
    services: ServicesDep,
) -> GetWebhookResponse:
    return GetWebhookResponse(webhook=webhook(services.webhooks.delete(principal, webhookId)))


@router.get(
    "/v1/webhooks/{webhookId}/deliveries",
    response_model=ListWebhookDeliveriesResponse,
    responses=errors(400, 401, 403, 404),
    summary="List a webhook's deliveries, newest first, with their attempts",
)
def list_deliveries(
    webhookId: WebhookId,  # noqa: N803
    principal: PrincipalDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=MAX_DELIVERIES_PAGE)] = 20,
) -> ListWebhookDeliveriesResponse:
    deliveries = services.webhooks.deliveries(principal, webhookId, limit=limit)
    return ListWebhookDeliveriesResponse(
        deliveries=[webhook_delivery(delivery) for delivery in deliveries]
    )
