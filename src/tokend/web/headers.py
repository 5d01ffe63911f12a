"""Security headers on every HTML answer (SPEC §9): the pages, their error pages and
``/docs`` alike.

The policy allows nothing by default and then only our own origin for scripts,
styles, images (and ``data:`` images, which Swagger UI's stylesheet uses), fetches
and form targets; no inline script, no inline style, no framing, no ``<base>``.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(form_action: str = "'self'") -> str:
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            # Browsers apply it to the redirects that follow a form too: the consent
            # page, whose answer redirects to the app, adds the app's origin.
            f"form-action {form_action}",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


CONTENT_SECURITY_POLICY = content_security_policy()
CSP_HEADER = "content-security-policy"
HTML_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    # Pages hold session-bound CSRF tokens, and one of them a token's secret.
    "cache-control": "no-store",
}
_RAW_HEADERS = [(name.encode(), value.encode()) for name, value in HTML_HEADERS.items()]
_REPLACED = frozenset(name for name, _ in _RAW_HEADERS)


class SecurityHeaders:
    """ASGI middleware: adds `HTML_HEADERS` to every response whose type is text/html."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and _is_html(message):
                headers = message.get("headers", ())
                kept = [h for h in headers if h[0].lower() not in _REPLACED]
                added = _RAW_HEADERS
                own = [h for h in headers if h[0].lower() == CSP_HEADER.encode()]
                if own:  # a page's own policy, built by content_security_policy()
                    added = [h for h in _RAW_HEADERS if h[0] != CSP_HEADER.encode()] + own[:1]
                message["headers"] = kept + added
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_html(message: Message) -> bool:
    for name, value in message.get("headers", ()):
        if name.lower() == b"content-type":
            return bytes(value).startswith(b"text/html")
    return False
