"""The rate-limit settings: what `tokend serve` hands to uvicorn, and what is refused."""

import pytest
from pydantic import ValidationError

from tokend.settings import Settings


def test_no_proxy_is_trusted_by_default() -> None:
    assert Settings().trusted_proxy_list == []


def test_trusted_proxies_are_normalised_for_uvicorn() -> None:
    settings = Settings(trusted_proxies=" 10.1.2.3/8, ::1,127.0.0.1 ,")
    assert settings.trusted_proxy_list == ["10.0.0.0/8", "::1/128", "127.0.0.1/32"]


@pytest.mark.parametrize("entry", ["*", "proxy.example", "10.0.0.0/33", "127.0.0.1:80"])
def test_a_trusted_proxy_must_be_an_address_or_network(entry: str) -> None:
    with pytest.raises(ValidationError, match="not an IP address or CIDR network"):
        Settings(trusted_proxies=entry)


def test_redis_url() -> None:
    assert Settings().redis_url is None
    assert Settings(redis_url="").redis_url is None
    assert Settings(redis_url="rediss://:pw@cache:6380/1").redis_url == "rediss://:pw@cache:6380/1"
    with pytest.raises(ValidationError, match="not a Redis URL"):
        Settings(redis_url="http://cache:6379")
