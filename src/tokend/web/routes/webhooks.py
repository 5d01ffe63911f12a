"""``/webhooks``: the person's webhooks (their own, and those they added for their
teams), add one (its signing secret shown once), see one's recent deliveries, pause
it or turn it back on, and delete it after a confirmation.

As on the tokens page, the secret is in the answer to the add POST only, ``no-store``;
the form says when it was shown, and one older than the person's newest webhook is
refused, so reloading that answer does not add a second webhook.
"""

from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tokend.domain.accounts import Team
from tokend.domain.errors import Forbidden, ValidationFailed
from tokend.domain.webhooks import EVENT_TYPES, URL_MAX_LENGTH, Delivery, Webhook, validate_events
from tokend.service.clock import system_clock
from tokend.service.webhooks import CreatedWebhook, FormAlreadyUsed
from tokend.web import forms
from tokend.web.forms import FieldError, WebhookForm
from tokend.web.pages import WebRoute, cursor, posted_form, redirect, render, text
from tokend.web.sessions import SignedIn, Visit, services_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)

DELIVERIES_SHOWN = 20
NOTICES = {
    "deleted": "The webhook was deleted, with its deliveries.",
    "enabled": "The webhook is on again: new events are sent to it. Deliveries that "
    "failed while it was off stay failed.",
    "disabled": "The webhook is paused: nothing is sent to it until you turn it back on.",
}
# What each event type means to a person, in the add form.
EVENT_LABELS = {
    "token.created": "A token is created",
    "token.revoked": "A token is revoked",
    "token.rotated": "A token is rotated",
    "token.leaked": "A token is found leaked (and revoked)",
    "token.expiring": "A token expires soon",
    "token.expired": "A token has expired",
    "auth.rate_limited": "Sign-ins are refused: too many failed attempts",
}


@dataclass(frozen=True, slots=True)
class Row:
    webhook: Webhook
    owner: str  # "Personal", or the team's name


def _load(request: Request, visit: Visit) -> tuple[list[Webhook], list[Team]]:
    services = services_of(request)
    return services.webhooks.list_for(visit.person), services.accounts.teams(visit.person)


async def _page(
    request: Request,
    visit: Visit,
    *,
    status: int = 200,
    values: WebhookForm | None = None,
    errors: dict[str, str] | None = None,
    created: CreatedWebhook | None = None,
    notice: str | None = None,
) -> Response:
    hooks, teams = await run_in_threadpool(_load, request, visit)
    context: dict[str, Any] = {
        "rows": [Row(hook, forms.owner_name(hook.team_id, teams)) for hook in hooks],
        "values": values or WebhookForm(),
        "event_types": [(event, EVENT_LABELS[event]) for event in EVENT_TYPES],
        "scopes": forms.scope_choices(teams),
        "url_max_length": URL_MAX_LENGTH,
        "shown_at": system_clock(),
        "created": created,
        "created_owner": forms.owner_name(created.webhook.team_id, teams) if created else None,
        "notice": notice,
    }
    return render(
        request, "webhooks/index.html", visit=visit, status=status, errors=errors, **context
    )


@router.get("/webhooks")
async def list_webhooks(request: Request, visit: SignedIn) -> Response:
    return await _page(request, visit, notice=NOTICES.get(request.query_params.get("notice", "")))


def _create(request: Request, visit: Visit, values: WebhookForm) -> CreatedWebhook:
    services = services_of(request)
    if not values.events:
        raise FieldError("events", "Choose at least one event to send.")
    try:
        events = validate_events(values.events)
    except ValidationFailed as exc:
        raise FieldError("events", str(exc)) from None
    team = forms.team_of(values, services.accounts.teams(visit.person))
    try:
        return services.webhooks.create(
            visit.person,
            url=values.url,
            events=events,
            team_id=team.id if team else None,
            unless_created_since=values.shown_at,
        )
    except Forbidden as exc:  # left the team since the page was shown
        raise FieldError("scope", str(exc)) from None
    except ValidationFailed as exc:  # the URL: the one rule the service checks alone
        raise FieldError("url", str(exc)) from None


@router.post("/webhooks")
async def create_webhook(request: Request, visit: SignedIn) -> Response:
    form = await posted_form(request, visit)
    values = WebhookForm(
        url=text(form, "url", URL_MAX_LENGTH + 1),
        events=tuple(value[:40] for value in form.getlist("events")[:20] if isinstance(value, str)),
        scope=text(form, "scope", 100),
        shown_at=cursor(text(form, "shown_at", 20)),
    )
    try:
        created = await run_in_threadpool(_create, request, visit, values)
    except FormAlreadyUsed as exc:
        # Shown again with what was typed and a fresh shown_at: one more click adds it.
        return await _page(request, visit, status=409, values=values, errors={"form": str(exc)})
    except FieldError as exc:
        return await _page(request, visit, status=400, values=values, errors={exc.field: str(exc)})
    return await _page(request, visit, status=201, created=created)


def _detail(request: Request, visit: Visit, webhook_id: str) -> tuple[Webhook, list[Delivery], str]:
    services = services_of(request)
    hook = services.webhooks.get(visit.person, webhook_id)
    deliveries = services.webhooks.deliveries(visit.person, hook.id, limit=DELIVERIES_SHOWN)
    return hook, deliveries, forms.owner_name(hook.team_id, services.accounts.teams(visit.person))


@router.get("/webhooks/{webhook_id}")
async def show_webhook(request: Request, visit: SignedIn, webhook_id: str) -> Response:
    hook, deliveries, owner = await run_in_threadpool(_detail, request, visit, webhook_id)
    return render(
        request,
        "webhooks/show.html",
        visit=visit,
        webhook=hook,
        owner=owner,
        deliveries=deliveries,
        shown=DELIVERIES_SHOWN,
        notice=NOTICES.get(request.query_params.get("notice", "")),
    )


async def _switch(request: Request, visit: Visit, webhook_id: str, *, enabled: bool) -> Response:
    await posted_form(request, visit)
    switch = partial(services_of(request).webhooks.set_enabled, enabled=enabled)
    hook = await run_in_threadpool(switch, visit.person, webhook_id)
    return redirect(f"/webhooks/{hook.id}?notice={'enabled' if enabled else 'disabled'}")


@router.post("/webhooks/{webhook_id}/enable")
async def enable_webhook(request: Request, visit: SignedIn, webhook_id: str) -> Response:
    return await _switch(request, visit, webhook_id, enabled=True)


@router.post("/webhooks/{webhook_id}/disable")
async def disable_webhook(request: Request, visit: SignedIn, webhook_id: str) -> Response:
    return await _switch(request, visit, webhook_id, enabled=False)


@router.get("/webhooks/{webhook_id}/delete")
async def confirm_delete(request: Request, visit: SignedIn, webhook_id: str) -> Response:
    hook = await run_in_threadpool(services_of(request).webhooks.get, visit.person, webhook_id)
    return render(request, "webhooks/delete.html", visit=visit, webhook=hook)


@router.post("/webhooks/{webhook_id}/delete")
async def delete_webhook(request: Request, visit: SignedIn, webhook_id: str) -> Response:
    await posted_form(request, visit)
    await run_in_threadpool(services_of(request).webhooks.delete, visit.person, webhook_id)
    return redirect("/webhooks?notice=deleted")
