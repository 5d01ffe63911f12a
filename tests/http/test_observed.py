"""Route templates of the latency histogram: every route of `tokend serve`'s app is its
own label, found for a concrete path as the router finds it; what no route serves is
one label; the memory of paths met is bounded."""

import re

import pytest
from fastapi.routing import iter_route_contexts

from tokend.app import create_app
from tokend.http.observed import MAX_CACHED_PATHS, OTHER_METHOD, UNMATCHED, RouteTemplates

APP = create_app()


def concrete(template: str) -> str:
    """A path the template serves: each parameter replaced by a plausible value."""
    return re.sub(r"\{[^}]+\}", "Abc123", template)


ROUTES = [
    (context.path_format, sorted(context.methods or {"GET"})[0])
    for context in iter_route_contexts(APP.routes)
    if context.path_format
]


@pytest.mark.parametrize(("template", "method"), ROUTES, ids=[t for t, _ in ROUTES])
def test_each_route_is_its_own_label(template: str, method: str) -> None:
    templates = RouteTemplates(lambda: APP.routes)
    found = templates.of(method, concrete(template))
    assert found.route == template
    assert found.method == method


def test_every_route_is_there() -> None:
    assert len(ROUTES) >= 50
    assert ("/v5/user/tokens/{tokenId}", "GET") in ROUTES
    assert ("/login", "GET") in ROUTES


def test_paths_no_route_serves_are_one_label_and_the_memory_is_bounded() -> None:
    templates = RouteTemplates(lambda: APP.routes)
    labels = {templates.of("GET", f"/scan/{i}/x").route for i in range(3 * MAX_CACHED_PATHS)}
    assert labels == {UNMATCHED}
    assert len(templates.paths["GET"]) <= MAX_CACHED_PATHS
    # Still right after the memory was emptied.
    assert templates.of("GET", "/v5/user/tokens/abc").route == "/v5/user/tokens/{tokenId}"
    assert templates.of("GET", "/v2/user").route == "/v2/user"


def test_a_known_path_with_another_method_keeps_its_template() -> None:
    templates = RouteTemplates(lambda: APP.routes)
    found = templates.of("PROPFIND", "/v2/user")
    assert (found.route, found.method) == ("/v2/user", OTHER_METHOD)
    assert "PROPFIND" not in templates.paths  # unusual methods add no key either
    assert templates.of("DELETE", "/v2/user").route == "/v2/user"  # 405, same label
