"""``client.webhooks.disable`` and ``enable``, with `Client` and `AsyncClient`, against
a live server on both databases."""

import asyncio

import pytest

from tests.conftest import Account
from tests.support import Server
from tokend.client import AsyncClient, Client, NotFound

# A public address as a literal, subscribed to leaks only: nothing is ever sent to it.
URL, EVENTS = "https://1.1.1.1/client", ["token.leaked"]


def test_disable_then_enable(server: Server, alice: Account) -> None:
    with Client(base_url=server.url, token=alice.token) as client:
        hook = client.webhooks.create(URL, EVENTS).webhook
        paused = client.webhooks.disable(hook.id)
        assert paused.id == hook.id
        assert paused.disabled_at is not None
        assert client.webhooks.get(hook.id).disabled_at == paused.disabled_at
        on = client.webhooks.enable(hook.id)
        assert on.disabled_at is None
        assert on.failing_since is None
        assert client.webhooks.get(hook.id).disabled_at is None
        with pytest.raises(NotFound):
            client.webhooks.enable("wh_doesnotexist")


def test_disable_then_enable_async(server: Server, alice: Account) -> None:
    async def run() -> None:
        async with AsyncClient(base_url=server.url, token=alice.token) as client:
            hook = (await client.webhooks.create(URL, EVENTS)).webhook
            assert (await client.webhooks.disable(hook.id)).disabled_at is not None
            assert (await client.webhooks.get(hook.id)).disabled_at is not None
            assert (await client.webhooks.enable(hook.id)).disabled_at is None
            assert (await client.webhooks.get(hook.id)).disabled_at is None
            with pytest.raises(NotFound):
                await client.webhooks.disable("wh_doesnotexist")

    asyncio.run(run())
