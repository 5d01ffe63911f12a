"""The outermost layer of the app: every request gets an id (its log lines carry it,
its answer says it in ``X-Request-Id``) and its latency is counted in
``tokend_http_request_duration_seconds`` by route template, method and status.

It wraps everything, Starlette's error middleware included, so that the shortcuts
answering cached tokens before routing, the pages, and the 500s are all measured and
all carry an id, and no shortcut has to know about it.
"""

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from time import perf_counter_ns
from typing import Any

import fastapi.routing
from starlette.applications import Starlette
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tokend.http import request_id
from tokend.metrics import REQUEST_LATENCIES, Series

UNMATCHED = "unmatched"
OTHER_METHOD = "other"
KNOWN_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
MAX_CACHED_PATHS = 2048


class _Template:
    """A route template and method, with its histogram series by status."""

    __slots__ = ("by_status", "method", "route")

    def __init__(self, route: str, method: str) -> None:
        self.route = route
        self.method = method
        self.by_status: dict[int, Series] = {}


class RouteTemplates:
    """The route template (``/v5/user/tokens/{tokenId}``) a request path is served
    by, found as Starlette's router finds it and remembered per method and path.

    Paths no route serves are all `UNMATCHED`, methods beyond the usual ones are all
    `OTHER_METHOD`, and at most `MAX_CACHED_PATHS` paths per method are remembered
    (emptied when full), so a scanner grows neither the metric's labels nor this
    process.
    """

    def __init__(self, routes: Callable[[], Sequence[BaseRoute]]) -> None:
        self._routes = routes
        self._patterns: list[tuple[re.Pattern[str], str, Collection[str] | None]] | None = None
        self.paths: dict[str, dict[str, _Template]] = {}
        """By method, then path: the template of each path met (read by the caller)."""
        self._templates: dict[tuple[str, str], _Template] = {}

    def of(self, method: str, path: str) -> _Template:
        paths = self.paths.get(method)
        if paths is None:
            if method not in KNOWN_METHODS:
                method = OTHER_METHOD
            paths = self.paths.setdefault(method, {})
        found = paths.get(path)
        if found is None:
            if len(paths) >= MAX_CACHED_PATHS:
                paths.clear()
            key = (self.template(method, path), method)
            found = self._templates.get(key)
            if found is None:
                found = self._templates[key] = _Template(*key)
            paths[path] = found
        return found

    def template(self, method: str, path: str) -> str:
        if self._patterns is None:
            # Read at the first request, when every route has been added.
            self._patterns = [
                (route.path_regex, route.path_format, route.methods)
                for route in _flattened(self._routes())
                if getattr(route, "path_format", None) and hasattr(route, "path_regex")
            ]
        partial = None
        for pattern, template, methods in self._patterns:
            if pattern.match(path):
                if methods is None or method in methods:
                    return template
                if partial is None:  # 405: the path exists, for other methods
                    partial = template
        return partial or UNMATCHED


class ObservedRequests:
    """ASGI middleware: request id, ``X-Request-Id`` and the latency histogram.

    An incoming ``X-Request-Id`` is kept only from a trusted proxy
    (``TOKEND_TRUSTED_PROXIES``, read from ``app.state.services`` once the app has
    started), and only if `request_id.accepted`; otherwise the request gets a fresh
    one.
    """

    def __init__(self, app: ASGIApp, routed: Starlette) -> None:
        self.app = app
        self._routed = routed
        self._templates = RouteTemplates(lambda: routed.routes)
        self._known_paths = self._templates.paths
        self._latencies = REQUEST_LATENCIES
        self._proxies: request_id.TrustedProxies | None = None  # None: nobody's

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                send = self._on_lifespan(send)
            await self.app(scope, receive, send)
            return
        started = perf_counter_ns()
        rid = None
        proxies = self._proxies
        if proxies is not None and _peer(scope) in proxies:
            for name, value in scope["headers"]:
                if name == request_id.HEADER:
                    rid = request_id.accepted(value)
                    break
        if rid is None:
            rid = request_id.new()
        request_id.current.set(rid)
        header = (request_id.HEADER, rid.encode("latin-1"))
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = perf_counter_ns() - started
            # The hot path: two look-ups; the rest only for a path or status not seen.
            paths = self._known_paths.get(scope["method"])
            template = paths.get(scope["path"]) if paths is not None else None
            if template is None:
                template = self._templates.of(scope["method"], scope["path"])
            status = status or 500  # no answer started: the app failed, the server says 500
            series = template.by_status.get(status)
            if series is None:
                series = template.by_status[status] = self._latencies.series(
                    template.route, template.method, status
                )
            self._latencies.observe(series, elapsed)

    def _on_lifespan(self, send: Send) -> Send:
        async def lifespan(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                services = getattr(self._routed.state, "services", None)
                if services is not None and services.settings.trusted_proxy_list:
                    self._proxies = request_id.TrustedProxies(services.settings.trusted_proxy_list)
            elif message["type"] == "lifespan.shutdown.complete":
                # The last second's latencies, before the worker's files are final.
                self._latencies.flush()
            await send(message)

        return lifespan


def _flattened(routes: Sequence[BaseRoute]) -> Iterable[Any]:
    # FastAPI from 0.16x keeps an included router's routes inside it and flattens them
    # (in the order they are matched) with iter_route_contexts; before, they were flat.
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    return flatten(routes) if flatten is not None else routes


def _peer(scope: Scope) -> str | None:
    client = scope.get(request_id.PEER_KEY) or scope.get("client")
    return client[0] if client else None
