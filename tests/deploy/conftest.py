"""nginx with the shipped configuration in front of the echoing upstream, for each
backend's tokend server (tests/conftest.py ``server``)."""

from collections.abc import Iterator

import pytest

from tests.deploy.proxy import EchoUpstream, Nginx, require_nginx
from tests.support import Server


@pytest.fixture(scope="session")
def echo() -> Iterator[EchoUpstream]:
    with EchoUpstream() as upstream:
        yield upstream


@pytest.fixture(scope="session")
def gateway(
    server: Server, echo: EchoUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Nginx]:
    require_nginx()
    # The shipped upstream block has two nodes: here both are the one test server.
    prefix = tmp_path_factory.mktemp("nginx")
    with Nginx(prefix, [server.url, server.url], echo.url) as nginx:
        yield nginx
