"""Cross-site request forgery: three locks on every state-changing form.

1. The request's own headers: a POST whose ``Origin`` is present and not ours, or
   whose ``Sec-Fetch-Site`` says another site sent it, is refused before anything
   is read (what current browsers send, checked as Datasette does).
2. Signed in: the form carries the session's CSRF token, derived from the cookie's
   secret (`tokend.domain.sessions.csrf_token`), which a page on another site can
   neither read nor compute; it renews with the session at every sign-in.
3. Not yet signed in (sign-in, an invite): a double-submit cookie, a random value
   both in a cookie and in the form; another site can make a browser send the
   cookie but cannot read it to put it in the form.

These are the web pages' only: the JSON API authenticates with a bearer header,
which a browser never adds to a forged request, and reads no cookie.
"""

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from tokend.domain.sessions import csrf_matches
from tokend.settings import Settings
from tokend.web.sessions import Visit, cookie_name, set_cookie

FIELD = "csrf_token"
ANONYMOUS_COOKIE = "tokend_csrf"
ANONYMOUS_MAX_AGE_S = 24 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class CsrfRefused(Exception):
    """A state-changing request that may have been forged: 403, nothing changed."""


def _origin(url: str) -> str | None:
    """``scheme://host:port`` of a URL, ports always written; None if it has no host."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname or port is None:
        return None
    return f"{parts.scheme.lower()}://{parts.hostname.lower()}:{port}"


def own_origin(request: Request, settings: Settings) -> str | None:
    """The public URL's origin, or without one the address this request was sent to."""
    if settings.public_url:
        return _origin(settings.public_url)
    host = request.headers.get("host")
    return _origin(f"{request.url.scheme}://{host}") if host else None


def check_headers(request: Request, settings: Settings) -> None:
    """Refuse a request another site's page made the browser send."""
    if request.method in SAFE_METHODS:
        return
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise CsrfRefused()
    origin = request.headers.get("origin")
    if origin is not None:
        expected = own_origin(request, settings)
        if expected is None or _origin(origin) != expected:
            raise CsrfRefused()  # "null" too: a sandboxed or privacy-sensitive context


def check_session_token(visit: Visit, form: FormData) -> None:
    candidate = form.get(FIELD)
    if not isinstance(candidate, str) or not csrf_matches(visit.secret, candidate):
        raise CsrfRefused()


def anonymous_token(request: Request, settings: Settings) -> str:
    """The double-submit value of this browser: its cookie's, or a new one (which
    `keep_anonymous_token` then sets)."""
    current = request.cookies.get(cookie_name(settings, ANONYMOUS_COOKIE))
    if current and 20 <= len(current) <= 100:
        return current
    return secrets.token_urlsafe(32)


def keep_anonymous_token(
    response: Response, request: Request, settings: Settings, token: str
) -> None:
    if request.cookies.get(cookie_name(settings, ANONYMOUS_COOKIE)) != token:
        set_cookie(response, settings, token, base=ANONYMOUS_COOKIE, max_age=ANONYMOUS_MAX_AGE_S)


def check_anonymous_token(request: Request, settings: Settings, form: FormData) -> None:
    cookie = request.cookies.get(cookie_name(settings, ANONYMOUS_COOKIE))
    candidate = form.get(FIELD)
    if not cookie or not isinstance(candidate, str):
        raise CsrfRefused()
    if not hmac.compare_digest(cookie.encode(), candidate.encode()):
        raise CsrfRefused()
