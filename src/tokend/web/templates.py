"""The one Jinja2 environment of the pages: autoescaping on everywhere, undefined
names an error (a typo must not render as an empty string), and the filters that
show times as people read them."""

from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from tokend import times
from tokend.domain.tokens import Token
from tokend.web.static import StaticFiles

# Every answer with HTML gets the security headers (headers.py); no-store is said here
# too, so that no page can be kept by a cache even if served some other way.
NO_STORE = {"Cache-Control": "no-store"}


def iso(ms: int) -> str:
    """The instant for ``<time datetime>``: ``2026-12-25T18:00:00Z``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def masked(token: Token) -> str:
    """What a person recognises a token by: ``tkd_…abcd``."""
    return f"{token.prefix}…{token.suffix}"


class Templates:
    def __init__(self, static: StaticFiles) -> None:
        self.env = Environment(
            loader=PackageLoader("tokend.web", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals["static"] = static.url
        self.env.filters["iso"] = iso
        self.env.filters["absolute"] = times.absolute
        self.env.filters["relative"] = lambda ms: times.relative(ms, times.now())
        self.env.filters["masked"] = masked

    def render(self, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        html = self.env.get_template(name).render(context)
        return HTMLResponse(html, status_code=status, headers=NO_STORE)
