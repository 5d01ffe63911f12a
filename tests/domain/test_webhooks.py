"""The webhook rules that need no server: addresses, URLs, events, retries, secrets."""

import base64

import pytest

from tokend.domain.errors import ValidationFailed
from tokend.domain.webhooks import (
    RETRY_WINDOW_MS,
    new_secret,
    next_attempt_at,
    parse_schedule,
    parse_url,
    refusal,
    refusal_of_all,
    validate_events,
)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.1.1", "::1", "fe80::1",
     "fc00::1", "0.0.0.0", "::", "224.0.0.1", "100.64.0.1", "::ffff:127.0.0.1", "192.0.2.1"],
)  # fmt: skip
def test_private_addresses_are_refused(address: str) -> None:
    assert refusal(address, allow_private=False)
    assert refusal(address, allow_private=True) is None


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"])
def test_metadata_addresses_are_refused_even_when_private_ones_are_allowed(address: str) -> None:
    assert refusal(address, allow_private=True)


def test_public_addresses_are_allowed() -> None:
    assert refusal("1.1.1.1", allow_private=False) is None
    assert refusal("2606:4700:4700::1111", allow_private=False) is None


def test_every_resolved_address_must_be_allowed() -> None:
    assert refusal_of_all(["1.1.1.1", "10.0.0.1"], allow_private=False)
    assert refusal_of_all([], allow_private=False)
    assert refusal_of_all(["1.1.1.1"], allow_private=False) is None


@pytest.mark.parametrize(
    "url",
    ["http://example.com/", "ftp://example.com/", "https://", "https://u:p@example.com/",
     "https://example.com/a b", "https://example.com:99999/", "https://" + "a" * 3000],
)  # fmt: skip
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_url(url, allow_plain_http=False)


def test_plain_http_only_where_private_addresses_are_allowed() -> None:
    assert parse_url("http://127.0.0.1:8080/x", allow_plain_http=True).port == 8080
    assert parse_url("https://example.com/x", allow_plain_http=False).port == 443


def test_events_are_from_the_set_and_not_empty() -> None:
    assert validate_events(["token.created", "token.created"]) == ("token.created",)
    with pytest.raises(ValidationFailed):
        validate_events([])
    with pytest.raises(ValidationFailed):
        validate_events(["auth.signed_in"])


HOUR = 3_600_000


def test_the_schedule_then_one_last_attempt_when_a_day_old() -> None:
    delays = parse_schedule("5s,5m,30m")
    assert delays == (5000, 300_000, 1_800_000)
    now = 10 * HOUR  # the delivery was made at 0
    assert [next_attempt_at(0, n, now, delays) for n in (1, 2, 3)] == [
        now + 5000,
        now + 300_000,
        now + 1_800_000,
    ]
    assert next_attempt_at(0, 4, now, delays) == RETRY_WINDOW_MS == 24 * HOUR
    assert next_attempt_at(0, 5, RETRY_WINDOW_MS, delays) is None


def test_the_default_schedule_retries_for_a_day() -> None:
    delays = parse_schedule("5s,5m,30m,2h,5h,10h")
    now, attempts = 0, 1
    while (retry_at := next_attempt_at(0, attempts, now, delays)) is not None:
        now, attempts = retry_at, attempts + 1
    assert attempts == 8  # the first, six on the schedule, one at 24 h
    assert now == 24 * HOUR


def test_a_schedule_longer_than_a_day_is_followed_to_its_end() -> None:
    delays = parse_schedule("20h,20h")
    assert next_attempt_at(0, 2, 20 * HOUR, delays) == 40 * HOUR
    assert next_attempt_at(0, 3, 40 * HOUR, delays) is None


def test_a_secret_is_standard_webhooks_shaped() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    assert new_secret() != secret
