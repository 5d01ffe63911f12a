"""``/tokens``: the list, create (the secret shown once), rotate, and revoke after a
confirmation.

The secret of a new or rotated token is rendered in the answer to that POST and
nowhere else: not in a redirect, URL, session or log. The page is ``no-store``, so
going back or reloading the list does not show it again. Reloading the POST's answer
sends the form again: the form says when it was shown, and a create form older than
the user's newest token is refused, as a rotate of a token already rotated is.
"""

from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tokend.domain.accounts import Team
from tokend.domain.durations import in_words
from tokend.domain.errors import Forbidden, NotFound, ValidationFailed
from tokend.domain.permissions import MAX_PER_TOKEN, CataloguedPermission
from tokend.domain.permissions import NAME_MAX_LENGTH as PERMISSION_NAME_MAX_LENGTH
from tokend.domain.tokens import NAME_MAX_LENGTH, Token, validate_name
from tokend.service.clock import system_clock
from tokend.service.tokens import FormAlreadyUsed, IssuedToken, TeamRef, TokenPage
from tokend.web import forms
from tokend.web.forms import FieldError, TokenForm
from tokend.web.pages import WebRoute, cursor, posted_form, redirect, render, text
from tokend.web.sessions import SignedIn, Visit, requester, services_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE_SIZE = 20
NOTICES = {
    "revoked": "The token was revoked. Programs using it can no longer sign in with it.",
    "gone": "That token was rotated or revoked already; its successor, if any, is listed.",
}


@dataclass(frozen=True, slots=True)
class Row:
    token: Token
    team: str  # "Personal", or the team's name
    used: bool  # whether it was ever used (activeAt moves past createdAt)
    # "unused for 30 days" when its inactivity limit ended it before its own expiry.
    inactive: str | None = None


def _load(
    request: Request, visit: Visit, until: int | None = None, since: int | None = None
) -> tuple[TokenPage, list[Team], list[CataloguedPermission]]:
    services = services_of(request)
    page = services.tokens.list(visit.person, limit=PAGE_SIZE, until=until, since=since)
    return page, services.accounts.teams(visit.person), services.permissions.list()


def _rows(page: TokenPage, teams: list[Team], now: int) -> list[Row]:
    return [
        Row(
            token,
            forms.owner_name(token.team_id, teams),
            token.active_at > token.created_at,
            _inactive(token, now),
        )
        for token in page.tokens
    ]


def _inactive(token: Token, now: int) -> str | None:
    idle_until = token.inactivity_expires_at
    if token.inactivity_ms is None or idle_until is None or idle_until > now:
        return None
    if token.expires_at is not None and token.expires_at <= idle_until:
        return None  # it had expired by its own expiry first
    return f"unused for {in_words(token.inactivity_ms)}"


async def _page(
    request: Request,
    visit: Visit,
    *,
    status: int = 200,
    values: TokenForm | None = None,
    errors: dict[str, str] | None = None,
    issued: IssuedToken | None = None,
    rotated: bool = False,
    overlap_ms: int | None = None,
    notice: str | None = None,
    until: int | None = None,
    since: int | None = None,
) -> Response:
    page, teams, permissions = await run_in_threadpool(_load, request, visit, until, since)
    context: dict[str, Any] = {
        "rows": _rows(page, teams, system_clock()),
        "next_until": page.next,
        "prev_since": page.prev,
        "values": values or TokenForm(),
        "expirations": forms.EXPIRATIONS,
        "overlaps": forms.OVERLAPS,
        "scopes": forms.scope_choices(teams),
        "permissions": permissions,
        "now_ms": system_clock(),
        "shown_at": system_clock(),
        "min_date": forms.min_date(system_clock()),
        "issued": issued,
        "rotated": rotated,
        "overlap": in_words(overlap_ms) if overlap_ms else None,
        "notice": notice,
    }
    return render(
        request, "tokens/index.html", visit=visit, status=status, errors=errors, **context
    )


@router.get("/tokens")
async def list_tokens(request: Request, visit: SignedIn) -> Response:
    query = request.query_params
    return await _page(
        request,
        visit,
        notice=NOTICES.get(query.get("notice", "")),
        until=cursor(query.get("until")),
        since=cursor(query.get("since")),
    )


def _create(request: Request, visit: Visit, values: TokenForm) -> IssuedToken:
    services = services_of(request)
    try:
        name = validate_name(values.name)
    except ValidationFailed as exc:
        raise FieldError("name", str(exc)) from None
    expires_at = forms.expiry(values, system_clock())
    team = forms.team_of(values, services.accounts.teams(visit.person))
    try:
        return services.tokens.create(
            visit.person,
            name=name,
            expires_at=expires_at,
            team=TeamRef(team_id=team.id) if team else None,
            requester=requester(request),
            unless_created_since=values.shown_at,
            permissions=forms.permissions_of(values),
        )
    except Forbidden as exc:  # left the team since the page was shown
        raise FieldError("scope", str(exc)) from None


@router.post("/tokens")
async def create_token(request: Request, visit: SignedIn) -> Response:
    form = await posted_form(request, visit)
    values = TokenForm(
        name=text(form, "name", NAME_MAX_LENGTH + 1),
        expiration=text(form, "expiration", 10),
        expires_on=text(form, "expires_on", 20),
        scope=text(form, "scope", 100),
        shown_at=cursor(text(form, "shown_at", 20)),
        access=text(form, "access", 20) or forms.FULL_ACCESS,
        permissions=tuple(
            value[:PERMISSION_NAME_MAX_LENGTH]
            for value in form.getlist("permissions")[:MAX_PER_TOKEN]
            if isinstance(value, str)
        ),
    )
    try:
        issued = await run_in_threadpool(_create, request, visit, values)
    except FormAlreadyUsed as exc:
        # Shown again with what was typed and a fresh shown_at: one more click makes it.
        return await _page(request, visit, status=409, values=values, errors={"form": str(exc)})
    except FieldError as exc:
        return await _page(request, visit, status=400, values=values, errors={exc.field: str(exc)})
    except ValidationFailed as exc:
        return await _page(request, visit, status=400, values=values, errors={"form": str(exc)})
    return await _page(request, visit, status=201, issued=issued)


@router.post("/tokens/{token_id}/rotate")
async def rotate_token(request: Request, visit: SignedIn, token_id: str) -> Response:
    form = await posted_form(request, visit)
    services = services_of(request)
    try:
        overlap_ms = forms.overlap(text(form, "overlap", 10))
        issued = await run_in_threadpool(
            partial(services.tokens.rotate, overlap_ms=overlap_ms),
            visit.person,
            token_id,
            requester(request),
        )
    except NotFound:
        # Most often this very form sent again (a reload of the new secret's page): the
        # token is rotated already, and its successor's secret was shown once.
        return redirect("/tokens?notice=gone")
    except ValidationFailed as exc:
        return await _page(request, visit, status=400, errors={"list": str(exc)})
    return await _page(request, visit, issued=issued, rotated=True, overlap_ms=overlap_ms)


@router.get("/tokens/{token_id}/revoke")
async def confirm_revoke(request: Request, visit: SignedIn, token_id: str) -> Response:
    token = await run_in_threadpool(services_of(request).tokens.get, visit.person, token_id)
    return render(request, "tokens/revoke.html", visit=visit, token=token)


@router.post("/tokens/{token_id}/revoke")
async def revoke_token(request: Request, visit: SignedIn, token_id: str) -> Response:
    await posted_form(request, visit)
    services = services_of(request)
    await run_in_threadpool(services.tokens.revoke, visit.person, token_id, requester(request))
    return redirect("/tokens?notice=revoked")
