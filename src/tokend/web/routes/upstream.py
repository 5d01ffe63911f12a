"""``/login/upstream``: sign-in through the operator's identity provider (Keycloak,
Okta, Entra ID, Google), and the callback it sends the browser back to.

The state travels twice: in the provider's redirect, and in a short-lived HttpOnly
cookie set when this browser left. A callback whose state is not this browser's
cookie is refused, so a link with an attacker's own code and state cannot sign a
victim into the attacker's account (login CSRF, RFC 6749 §10.12).
"""

import hmac
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tokend.domain.errors import NotFound
from tokend.domain.upstream import SignInStateInvalid, TooManySignIns, UpstreamSignInError
from tokend.service.upstream import (
    CODE_MAX_LENGTH,
    SIGN_IN_LIFETIME_MS,
    STATE_MAX_LENGTH,
    UPSTREAM_CALLBACK,
    UpstreamSignInService,
)
from tokend.web import csrf
from tokend.web.pages import HOME, WebRoute, local_path, redirect
from tokend.web.routes.signin import sign_in_page
from tokend.web.sessions import (
    clear_cookie,
    cookie_name,
    current_visit,
    requester,
    services_of,
    set_cookie,
    start_session,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

STATE_COOKIE = "tokend_upstream"
# The provider's own words (error_description) are not shown: they are the
# provider's to phrase, and anyone can put any text in a link to the callback.
PROVIDER_SAID_NO = "You were not signed in: the identity provider did not let you through."


def _upstream(request: Request) -> UpstreamSignInService:
    upstream = services_of(request).upstream
    if upstream is None:
        raise NotFound("Sign-in through an identity provider is not set up here.")
    return upstream


@router.get("/login/upstream")
async def start(
    request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
) -> Response:
    upstream = _upstream(request)
    settings = services_of(request).settings
    next_path = local_path(next)
    try:
        started = await run_in_threadpool(upstream.start, next_path, requester(request))
    except TooManySignIns as exc:
        return sign_in_page(
            request,
            status=exc.status,
            next_path=next_path,
            alert=str(exc),
            retry_after_s=exc.retry_after_s,
        )
    except UpstreamSignInError as exc:
        return sign_in_page(request, status=exc.status, next_path=next_path, alert=str(exc))
    response = redirect(started.url)
    set_cookie(
        response,
        settings,
        started.state,
        base=STATE_COOKIE,
        max_age=SIGN_IN_LIFETIME_MS // 1000,
    )
    return response


@router.get(UPSTREAM_CALLBACK)
async def callback(
    request: Request,
    state: Annotated[str | None, Query(max_length=STATE_MAX_LENGTH)] = None,
    code: Annotated[str | None, Query(max_length=CODE_MAX_LENGTH)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    upstream = _upstream(request)
    services = services_of(request)
    settings = services.settings
    cookie = request.cookies.get(cookie_name(settings, STATE_COOKIE))
    ours = bool(state and cookie) and hmac.compare_digest(
        (state or "").encode(), (cookie or "").encode()
    )
    if error is not None:
        next_path = await run_in_threadpool(upstream.abandon, state if ours else None)
        response = sign_in_page(
            request, status=400, next_path=next_path or HOME, alert=PROVIDER_SAID_NO
        )
    elif not ours:
        # Not this browser's trip: the stored sign-in is left alone (it is not ours
        # to end), and nobody is signed in.
        response = sign_in_page(request, status=400, alert=str(SignInStateInvalid()))
    else:
        try:
            finished = await run_in_threadpool(upstream.finish, state, code, requester(request))
        except UpstreamSignInError as exc:
            response = sign_in_page(request, status=exc.status, alert=str(exc))
        else:
            # As a password sign-in: the browser's old session ends, the new one has
            # a new secret (and CSRF token).
            previous = await current_visit(request)
            if previous is not None:
                await run_in_threadpool(
                    services.sessions.sign_out, previous.person, requester(request)
                )
            response = redirect(finished.next_path)
            start_session(response, settings, finished.signed_in.secret)
            clear_cookie(response, settings, base=csrf.ANONYMOUS_COOKIE)
    clear_cookie(response, settings, base=STATE_COOKIE)
    return response
