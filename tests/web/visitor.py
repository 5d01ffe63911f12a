"""A person at a browser without JavaScript, for the page tests: an httpx client that
keeps its cookies, parses each page, and sends a form the way a browser would (the
fields as the page fills them, what the person typed, the button pressed)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from tests.support import Server
from tests.web.html import Element, parse


@dataclass
class Page:
    response: httpx.Response
    doc: Element

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def title(self) -> str:
        return self.doc.one("title").text

    @property
    def html(self) -> str:
        return self.response.text


class Visitor:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, follow_redirects=False, timeout=30)

    def __enter__(self) -> "Visitor":
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def get(self, path: str, **options: object) -> Page:
        return self.page(self.http.get(path, **options))  # type: ignore[arg-type]

    def follow(self, response: httpx.Response) -> Page:
        """The page a 303 leads to."""
        assert response.status_code == 303, (response.status_code, response.text[:300])
        return self.get(response.headers["location"])

    @staticmethod
    def page(response: httpx.Response) -> Page:
        return Page(response, parse(response.text))

    def submit(
        self,
        page: Page,
        button: str,
        fill: Mapping[str, str] | None = None,
        *,
        within: Element | None = None,
        headers: Mapping[str, str] | None = None,
        drop: tuple[str, ...] = (),
        values: Mapping[str, str] | None = None,
        **fields: str,
    ) -> httpx.Response:
        """Press ``button`` (its accessible name) of a form of ``page`` (or of
        ``within``, a part of it): ``fill`` maps a control's label to what is typed
        in it, ``values`` and ``fields`` a field's name to its value; ``drop``
        leaves fields out."""
        pressed = (within or page.doc).button(button)
        form = pressed.ancestor("form")
        sent = form.form_values()
        for label, value in (fill or {}).items():
            sent[page.doc.labelled(label).attrs["name"]] = value
        sent.update(values or {})
        sent.update(fields)
        if "name" in pressed.attrs:
            sent[pressed.attrs["name"]] = pressed.attrs.get("value", "")
        for name in drop:
            sent.pop(name, None)
        action = urljoin(str(page.response.url), form.attrs.get("action", ""))
        path = urlsplit(action).path
        if form.attrs.get("method", "get").lower() == "post":
            return self.http.post(path, data=sent, headers=dict(headers or {}))
        return self.http.get(path, params=sent, headers=dict(headers or {}))

    def sign_in(self, login: str, password: str, next_path: str | None = None) -> httpx.Response:
        page = self.get("/login" + (f"?next={next_path}" if next_path else ""))
        return self.submit(page, "Sign in", {"Username or email": login, "Password": password})


def secret_on(page: Page) -> str:
    """The one-time secret shown on the page."""
    return page.doc.one(data_testid="new-token-secret").text


def token_rows(page: Page) -> list[Element]:
    return page.doc.all("tr", data_testid="token-row")


def row_of(page: Page, token_id: str) -> Element:
    return page.doc.one("tr", data_testid="token-row", data_token_id=token_id)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each cookie set by the answer: its name, and the rest of its Set-Cookie line."""
    found = {}
    for line in response.headers.get_list("set-cookie"):
        name, _, rest = line.partition("=")
        found[name] = rest
    return found


def cookie_flags(line: str) -> set[str]:
    """The attributes of a Set-Cookie value, lower-cased (``httponly``, ``path=/``...)."""
    return {part.strip().lower() for part in re.split(";", line)[1:]}
