"""The session cookie (SPEC §9), and who a request's browser is signed in as.

The cookie holds the session's random secret; the database holds only its digest.
It is ``tokend_session``, or ``__Host-tokend_session`` when the public URL is https:
the ``__Host-`` prefix makes browsers refuse it unless it is Secure, has Path=/ and
no Domain, so that no other host (a sibling subdomain) can set or shadow it.
"""

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tokend.bootstrap import Services
from tokend.domain.audit import Requester
from tokend.domain.errors import SessionEnded
from tokend.domain.principal import Person
from tokend.domain.sessions import Session, csrf_token
from tokend.http.auth import requester_of
from tokend.settings import Settings

COOKIE = "tokend_session"


class SignInRequired(Exception):
    """No live session: the page answers with a redirect to /login."""

    def __init__(self, *, ended: bool) -> None:
        super().__init__("Sign in to see this page.")
        self.ended = ended  # a cookie was sent, but its session is over


@dataclass(frozen=True, slots=True)
class Visit:
    """A request from a signed-in browser."""

    person: Person
    session: Session
    secret: str = field(repr=False)  # the cookie's value

    @property
    def csrf(self) -> str:
        return csrf_token(self.secret)


def is_https(settings: Settings) -> bool:
    return settings.base_url.startswith("https://")


def cookie_name(settings: Settings, base: str = COOKIE) -> str:
    return f"__Host-{base}" if is_https(settings) else base


def set_cookie(
    response: Response, settings: Settings, value: str, *, base: str = COOKIE, max_age: int
) -> None:
    response.set_cookie(
        cookie_name(settings, base),
        value,
        max_age=max_age,
        path="/",
        secure=is_https(settings),
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, settings: Settings, *, base: str = COOKIE) -> None:
    response.delete_cookie(
        cookie_name(settings, base),
        path="/",
        secure=is_https(settings),
        httponly=True,
        samesite="lax",
    )


def start_session(response: Response, settings: Settings, secret: str) -> None:
    """Give the browser a new session's cookie (sign-in, an accepted invite)."""
    set_cookie(response, settings, secret, max_age=settings.session_max_age_s)


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def requester(request: Request) -> Requester:
    return requester_of(request.scope)


def session_secret(request: Request) -> str | None:
    return request.cookies.get(cookie_name(services_of(request).settings))


async def current_visit(request: Request) -> Visit | None:
    """The signed-in visit, or None (no cookie, or a session that has ended)."""
    secret = session_secret(request)
    if secret is None:
        return None
    try:
        person, session = await run_in_threadpool(services_of(request).sessions.resolve, secret)
    except SessionEnded:
        return None
    return Visit(person, session, secret)


async def signed_in(request: Request) -> Visit:
    """The dependency of every page behind sign-in."""
    visit = await current_visit(request)
    if visit is None:
        raise SignInRequired(ended=session_secret(request) is not None)
    return visit


SignedIn = Annotated[Visit, Depends(signed_in)]
