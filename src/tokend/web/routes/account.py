"""``/account``: who you are, changing your password (which ends your other
sessions), and the sessions themselves, each of which can be ended."""

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tokend.domain.passwords import PASSWORD_MAX_LENGTH, WeakPassword
from tokend.service.accounts import WrongPassword
from tokend.web.pages import LOGIN, WebRoute, posted_form, redirect, render, text
from tokend.web.sessions import SignedIn, Visit, clear_cookie, requester, services_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)

NOTICES = {
    "password-changed": "Your password was changed. Your other sessions have ended.",
    "session-ended": "The session was ended.",
}
# Past the longest valid password, so that its rule, not a silent cut, refuses it.
FIELD_MAX_LENGTH = PASSWORD_MAX_LENGTH + 1


async def _page(
    request: Request,
    visit: Visit,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    sessions = await run_in_threadpool(services_of(request).sessions.list, visit.person)
    return render(
        request,
        "account/index.html",
        visit=visit,
        status=status,
        errors=errors,
        user=visit.person.user,
        sessions=sorted(sessions, key=lambda s: s.seen_at, reverse=True),
        notice=notice,
    )


@router.get("/account")
async def account(request: Request, visit: SignedIn) -> Response:
    return await _page(request, visit, notice=NOTICES.get(request.query_params.get("notice", "")))


@router.post("/account/password")
async def change_password(request: Request, visit: SignedIn) -> Response:
    form = await posted_form(request, visit)
    current = text(form, "current_password", FIELD_MAX_LENGTH)
    new = text(form, "new_password", FIELD_MAX_LENGTH)
    if not current:
        return await _page(
            request, visit, status=400, errors={"current_password": "Enter your current password."}
        )
    if new != text(form, "confirm_password", FIELD_MAX_LENGTH):
        return await _page(
            request,
            visit,
            status=400,
            errors={"confirm_password": "The two new passwords are not the same."},
        )
    try:
        await run_in_threadpool(
            services_of(request).accounts.change_password,
            visit.person,
            current,
            new,
            requester(request),
        )
    except WrongPassword as exc:
        return await _page(request, visit, status=400, errors={"current_password": str(exc)})
    except WeakPassword as exc:
        return await _page(request, visit, status=400, errors={"new_password": str(exc)})
    return redirect("/account?notice=password-changed")


@router.post("/account/sessions/{session_id}/end")
async def end_session(request: Request, visit: SignedIn, session_id: str) -> Response:
    await posted_form(request, visit)
    services = services_of(request)
    await run_in_threadpool(services.sessions.end, visit.person, session_id, requester(request))
    if session_id == visit.person.session_id:
        response = redirect(LOGIN)
        clear_cookie(response, services.settings)
        return response
    return redirect("/account?notice=session-ended")
