"""``/events``: the person's audit log, newest first, a page at a time."""

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tokend.domain.audit import EventType
from tokend.web.pages import WebRoute, cursor, render
from tokend.web.sessions import SignedIn, services_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE_SIZE = 50
# What each event type says to a person; the type itself is in the row's data.
DESCRIPTIONS = {
    EventType.TOKEN_CREATED: "Token created",
    EventType.TOKEN_REVOKED: "Token revoked",
    EventType.TOKEN_ROTATED: "Token rotated",
    EventType.TOKEN_LEAKED: "Token found leaked, and revoked",
    EventType.TOKEN_EXPIRING: "Token expiring soon: warned",
    EventType.TOKEN_EXPIRED: "Token expired",
    EventType.AUTH_RATE_LIMITED: "Refused: too many failed attempts",
    EventType.SIGNED_IN: "Signed in",
    EventType.SIGNED_IN_UPSTREAM: "Signed in through the identity provider",
    EventType.SIGN_IN_FAILED: "Failed sign-in",
    EventType.SIGNED_OUT: "Signed out",
    EventType.SESSION_ENDED: "Session ended",
    EventType.PASSWORD_CHANGED: "Password changed",
    EventType.INVITE_CREATED: "Invite link made",
    EventType.INVITE_ACCEPTED: "Invite accepted",
    EventType.DEVICE_APPROVED: "Device sign-in approved",
    EventType.DEVICE_DENIED: "Device sign-in denied",
    EventType.OAUTH_CONSENTED: "Allowed an app to sign you in",
    EventType.OAUTH_DENIED: "Denied an app",
    EventType.OAUTH_CODE_EXCHANGED: "An app received its token",
    EventType.OAUTH_CODE_REUSED: "An app's code was used twice: its tokens revoked",
    EventType.OAUTH_REFRESHED: "An app renewed its token",
    EventType.OAUTH_REFRESH_REUSED: "An old refresh token was replayed: the app's tokens revoked",
    EventType.WEBHOOK_DISABLED: "A webhook kept failing and was disabled",
}


@router.get("/events")
async def list_events(request: Request, visit: SignedIn) -> Response:
    until = cursor(request.query_params.get("until"))
    page = await run_in_threadpool(
        services_of(request).audit.list, visit.person, limit=PAGE_SIZE, until=until
    )
    return render(
        request,
        "events/index.html",
        visit=visit,
        events=page.events,
        next_until=page.next,
        first_page=until is None,
        describe=lambda event: DESCRIPTIONS.get(event.type, str(event.type)),
    )
