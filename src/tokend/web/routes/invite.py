"""``/invite/{code}``: a person invited by an operator chooses a password and is
signed in. An unknown, used or expired invite is one answer, a 404 that does not say
which (`InviteInvalid`)."""

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tokend.domain.accounts import User
from tokend.domain.passwords import PASSWORD_MAX_LENGTH, WeakPassword
from tokend.service.accounts import InviteInvalid
from tokend.web import csrf
from tokend.web.pages import HOME, WebRoute, error_page, redirect, render, text
from tokend.web.sessions import clear_cookie, current_visit, requester, services_of, start_session

router = APIRouter(route_class=WebRoute, include_in_schema=False)

CODE_MAX_LENGTH = 100
FIELD_MAX_LENGTH = PASSWORD_MAX_LENGTH + 1


def _invalid(request: Request) -> Response:
    return error_page(
        request,
        404,
        "Invite not valid",
        "This invite link is not valid. Ask the person who runs tokend for a new one.",
    )


def _page(
    request: Request,
    code: str,
    user: User,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
) -> Response:
    settings = services_of(request).settings
    token = csrf.anonymous_token(request, settings)
    response = render(
        request,
        "invite/accept.html",
        visit=None,
        status=status,
        csrf_token=token,
        errors=errors,
        user=user,
        code=code,
    )
    csrf.keep_anonymous_token(response, request, settings, token)
    return response


@router.get("/invite/{code}")
async def invite(request: Request, code: str) -> Response:
    accounts = services_of(request).accounts
    try:
        user = await run_in_threadpool(accounts.invited, code[:CODE_MAX_LENGTH])
    except InviteInvalid:
        return _invalid(request)
    return _page(request, code, user)


@router.post("/invite/{code}")
async def accept(request: Request, code: str) -> Response:
    services = services_of(request)
    form = await request.form()
    csrf.check_anonymous_token(request, services.settings, form)
    code = code[:CODE_MAX_LENGTH]
    password = text(form, "new_password", FIELD_MAX_LENGTH)
    try:
        user = await run_in_threadpool(services.accounts.invited, code)
        if password != text(form, "confirm_password", FIELD_MAX_LENGTH):
            return _page(
                request,
                code,
                user,
                status=400,
                errors={"confirm_password": "The two passwords are not the same."},
            )
        try:
            signed_in = await run_in_threadpool(
                services.accounts.accept_invite, code, password, requester(request)
            )
        except WeakPassword as exc:
            return _page(request, code, user, status=400, errors={"new_password": str(exc)})
    except InviteInvalid:
        return _invalid(request)
    previous = await current_visit(request)
    if previous is not None and previous.person.user.id != signed_in.person.user.id:
        await run_in_threadpool(services.sessions.sign_out, previous.person, requester(request))
    response = redirect(HOME)
    start_session(response, services.settings, signed_in.secret)
    clear_cookie(response, services.settings, base=csrf.ANONYMOUS_COOKIE)
    return response
