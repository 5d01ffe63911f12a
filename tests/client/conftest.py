import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.client.flavors import ClientLike, open_client

Connect = Callable[..., ClientLike]


@pytest.fixture(params=["sync", "async"])
def flavor(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def connect(flavor: str) -> Iterator[Connect]:
    """Opens clients of this test's flavor; all are closed afterwards."""
    opened: list[ClientLike] = []
    with asyncio.Runner() as runner:

        def make(**kwargs: Any) -> ClientLike:
            client = open_client(flavor, runner, **kwargs)
            opened.append(client)
            return client

        yield make
        for client in opened:
            client.close()
