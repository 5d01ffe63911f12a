"""``/``, ``/login`` and signing out."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tokend.domain.errors import RateLimited, SignInFailed, SignInLocked
from tokend.service.sessions import LOGIN_MAX_LENGTH
from tokend.web import csrf
from tokend.web.pages import (
    HOME,
    LOGIN,
    WebRoute,
    local_path,
    posted_form,
    redirect,
    render,
    text,
)
from tokend.web.sessions import (
    SignedIn,
    clear_cookie,
    current_visit,
    requester,
    services_of,
    start_session,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

SESSION_ENDED = "Your session has ended. Sign in again to continue."
PASSWORD_MAX_LENGTH = 1024  # longer than any valid one, short of a hashing cost attack


@router.get("/")
async def home(request: Request) -> Response:
    return redirect(HOME if await current_visit(request) else LOGIN)


def sign_in_page(
    request: Request,
    *,
    status: int = 200,
    login: str = "",
    next_path: str = HOME,
    error: str | None = None,
    notice: str | None = None,
    retry_after_s: int | None = None,
    alert: str | None = None,
) -> Response:
    """The sign-in page; ``error`` is the password form's, ``alert`` one about
    signing in through the identity provider."""
    services = services_of(request)
    settings = services.settings
    token = csrf.anonymous_token(request, settings)
    response = render(
        request,
        "signin/login.html",
        visit=None,
        status=status,
        csrf_token=token,
        errors={"form": error} if error else None,
        login=login,
        next_path=next_path,
        notice=notice,
        alert=alert,
        upstream_label=services.upstream.label if services.upstream else None,
    )
    csrf.keep_anonymous_token(response, request, settings, token)
    if retry_after_s is not None:
        response.headers["Retry-After"] = str(retry_after_s)
    return response


@router.get(LOGIN)
async def login_page(
    request: Request,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    ended: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    next_path = local_path(next)
    if await current_visit(request):
        return redirect(next_path)
    return sign_in_page(request, next_path=next_path, notice=SESSION_ENDED if ended else None)


@router.post(LOGIN)
async def sign_in(request: Request) -> Response:
    services = services_of(request)
    form = await request.form()
    csrf.check_anonymous_token(request, services.settings, form)
    login = text(form, "login", LOGIN_MAX_LENGTH)
    password = text(form, "password", PASSWORD_MAX_LENGTH)
    next_path = local_path(text(form, "next", 2000))
    try:
        signed_in = await run_in_threadpool(
            services.sessions.sign_in, login, password, requester(request)
        )
    except SignInFailed as exc:
        return sign_in_page(request, status=400, login=login, next_path=next_path, error=str(exc))
    except (SignInLocked, RateLimited) as exc:
        return sign_in_page(
            request,
            status=429,
            login=login,
            next_path=next_path,
            error=str(exc),
            retry_after_s=exc.retry_after_s,
        )
    # A session this browser had before ends: the new one has a new secret (and so a
    # new CSRF token), whatever a page planted in the old cookie.
    previous = await current_visit(request)
    if previous is not None:
        await run_in_threadpool(services.sessions.sign_out, previous.person, requester(request))
    response = redirect(next_path)
    start_session(response, services.settings, signed_in.secret)
    clear_cookie(response, services.settings, base=csrf.ANONYMOUS_COOKIE)
    return response


@router.post("/logout")
async def sign_out(request: Request, visit: SignedIn) -> Response:
    await posted_form(request, visit)
    services = services_of(request)
    await run_in_threadpool(services.sessions.sign_out, visit.person, requester(request))
    response = redirect(LOGIN)
    clear_cookie(response, services.settings)
    return response
