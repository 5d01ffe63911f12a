"""``/oauth/authorize``: "Sign in with tokend". An app sends the person here; signed
in (or after signing in), they see what the app asks for and answer "Allow" or
"Deny"; either way they go back to the app's registered redirect URI.

The consent form carries the request's parameters, and its answer checks them all
again (`Provider.check_request`): nothing in a hidden field is trusted as checked.
"""

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from tokend.service.provider import (
    AuthorizationRequest,
    RedirectedError,
    Unredirectable,
)
from tokend.web import sessions
from tokend.web.headers import CSP_HEADER, content_security_policy
from tokend.web.pages import WebRoute, error_page, posted_form, redirect, render, text
from tokend.web.sessions import SignedIn, Visit, current_visit, requester, services_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PATH = "/oauth/authorize"
PARAMETERS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "request",
    "request_uri",
)
MAX_LENGTH = 2000
# What each scope gives the app, in the person's words.
SCOPE_TEXT = {
    "openid": "Your tokend user id, to recognise you",
    "email": "Your email address",
    "profile": "Your username and name",
    "offline_access": "Access while you are away: it can renew its token without you",
}


def _params(source: FormData | dict[str, str]) -> dict[str, str]:
    """The request's parameters; a parameter sent empty counts as not sent."""
    found = {}
    for name in PARAMETERS:
        value = source.get(name)
        if isinstance(value, str) and value:
            found[name] = value[:MAX_LENGTH]
    return found


async def _checked(
    request: Request, params: dict[str, str], *, signed_in: bool = True
) -> AuthorizationRequest | Response:
    provider = services_of(request).provider
    try:
        return await run_in_threadpool(lambda: provider.check_request(params, signed_in=signed_in))
    except Unredirectable as exc:
        return error_page(request, 400, "This sign-in link is not valid", str(exc))
    except RedirectedError as exc:
        return redirect(exc.location(provider.policy.issuer))


@router.get(PATH)
async def authorize(request: Request) -> Response:
    params = _params(dict(request.query_params))
    visit = await current_visit(request)
    if visit is None and params.get("prompt") != "none":
        visit = await sessions.signed_in(request)  # raises: to sign in, then back here
    # prompt=none with nobody signed in: the app asked for no page, so the answer
    # (login_required) goes back to it, once its client and redirect URI are good.
    checked = await _checked(request, params, signed_in=visit is not None)
    if isinstance(checked, Response):
        return checked
    if visit is None:  # not reached: check_request refuses prompt=none above
        visit = await sessions.signed_in(request)
    return _consent_page(request, visit, checked)


@router.post(PATH)
async def decide(request: Request, visit: SignedIn) -> Response:
    form = await posted_form(request, visit)
    checked = await _checked(request, _params(form))
    if isinstance(checked, Response):
        return checked
    provider = services_of(request).provider
    who = requester(request)
    if text(form, "decision", 10) == "allow":
        location = await run_in_threadpool(
            lambda: provider.approve(
                visit.person, checked, auth_time=visit.session.created_at, requester=who
            )
        )
    else:
        location = await run_in_threadpool(provider.deny, visit.person, checked, who)
    return redirect(location)


def _consent_page(request: Request, visit: Visit, checked: AuthorizationRequest) -> Response:
    response = render(
        request,
        "authorize/consent.html",
        visit=visit,
        integration=checked.integration,
        scopes=[SCOPE_TEXT[scope] for scope in checked.scopes],
        params=_params(dict(request.query_params)),
        destination=_origin(checked.redirect_uri),
    )
    # The answer redirects to the app: the form's policy must allow its origin.
    response.headers[CSP_HEADER] = content_security_policy(f"'self' {_source(checked)}")
    return response


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def _source(checked: AuthorizationRequest) -> str:
    """The redirect URI as a CSP source: its origin, or an app scheme (``com.app:``)."""
    parts = urlsplit(checked.redirect_uri)
    if parts.scheme in ("http", "https"):
        return _origin(checked.redirect_uri)
    return f"{parts.scheme}:"
