"""What every page shares: rendering with the base layout's context, the route class
that turns errors into pages, and reading a posted form behind its CSRF locks."""

import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from tokend.domain.errors import (
    Forbidden,
    NotConfigured,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from tokend.domain.tokens import MAX_TIMESTAMP_MS
from tokend.http.errors import is_unavailable
from tokend.web import csrf
from tokend.web.sessions import SignInRequired, Visit, clear_cookie, services_of
from tokend.web.templates import Templates

log = logging.getLogger("tokend.web")

LOGIN = "/login"
HOME = "/tokens"


def templates_of(request: Request) -> Templates:
    templates: Templates = request.app.state.web_templates
    return templates


def render(
    request: Request,
    template: str,
    *,
    visit: Visit | None,
    status: int = 200,
    csrf_token: str | None = None,
    errors: Mapping[str, str] | None = None,
    **context: Any,
) -> Response:
    """A page. ``errors`` maps a field's name (or "form") to what is wrong with it:
    the base layout's title then says the form has errors."""
    return templates_of(request).render(
        template,
        {
            "visit": visit,
            "person": visit.person.user if visit else None,
            "csrf_token": csrf_token or (visit.csrf if visit else ""),
            "errors": dict(errors or {}),
            "path": request.url.path,
            **context,
        },
        status,
    )


def error_page(
    request: Request, status: int, title: str, message: str, *, visit: Visit | None = None
) -> Response:
    return render(
        request, "errors/error.html", visit=visit, status=status, title=title, message=message
    )


def redirect(url: str) -> RedirectResponse:
    # 303: the browser follows with a GET, whatever the method that led here.
    return RedirectResponse(url, status_code=303)


def local_path(target: str | None, default: str = HOME) -> str:
    """Where to go after sign-in: a path on this site, never another site (``//host``
    and ``/\\host`` are other sites to a browser)."""
    if (
        not target
        or len(target) > 2000
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(ord(c) < 0x20 or c == "\x7f" for c in target)
        or target.split("?", 1)[0] == LOGIN
    ):
        return default
    return target


async def posted_form(request: Request, visit: Visit) -> FormData:
    """The form of a signed-in POST, once its CSRF token is checked."""
    form = await request.form()
    csrf.check_session_token(visit, form)
    return form


def text(form: FormData, name: str, max_length: int = 1000) -> str:
    """A text field of a form ("" when missing, or a file where text was expected)."""
    value = form.get(name)
    return value[:max_length] if isinstance(value, str) else ""


def cursor(value: str | None) -> int | None:
    """A paging cursor (an instant, ms) from the query string; anything else is None,
    the first page."""
    if value is None or not value.isdigit() or len(value) > 16:
        return None
    number = int(value)
    return number if number <= MAX_TIMESTAMP_MS else None


def _sign_in_first(request: Request, required: SignInRequired) -> Response:
    target = LOGIN
    query = []
    if request.method == "GET":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if here != HOME:
            query.append(f"next={quote(here, safe='/')}")
    if required.ended:
        query.append("ended=1")
    response = redirect(target + ("?" + "&".join(query) if query else ""))
    if required.ended:
        clear_cookie(response, services_of(request).settings)
    return response


async def _answer(request: Request, handler: Callable[[Request], Awaitable[Response]]) -> Response:
    try:
        csrf.check_headers(request, services_of(request).settings)
        return await handler(request)
    except csrf.CsrfRefused:
        return error_page(
            request,
            403,
            "Request refused",
            "This form was not accepted: it came from another site, or from a page that "
            "is out of date. Go back, reload the page, and try again.",
        )
    except SignInRequired as required:
        return _sign_in_first(request, required)
    except NotFound as exc:
        return error_page(request, 404, "Not found", str(exc))
    except Forbidden as exc:
        return error_page(request, 403, "Not allowed", str(exc))
    except RateLimited as exc:
        response = error_page(request, 429, "Too many attempts", str(exc))
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    except ValidationFailed as exc:
        return error_page(request, 400, "Not accepted", str(exc))
    except NotConfigured as exc:
        return error_page(request, 503, "Not set up", str(exc))
    except (DBAPIError, PoolTimeout) as exc:
        if not is_unavailable(exc):
            raise
        log.warning("database unavailable on %s %s", request.method, request.url.path)
        response = error_page(
            request,
            503,
            "Temporarily unavailable",
            "tokend cannot reach its database right now. Try again in a few seconds.",
        )
        response.headers["Retry-After"] = "5"
        return response


class WebRoute(APIRoute):
    """A page's route: cross-site POSTs refused first, and errors answered as pages
    (the API's handlers answer JSON, for programs)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            return await _answer(request, handler)

        return route
