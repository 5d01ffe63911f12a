"""Lifetimes people type, and the relative times the tables show."""

from datetime import UTC, datetime, timedelta

import pytest

from tokend.cli.times import absolute, parse_expiry, relative

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


@pytest.mark.parametrize(
    ("text", "lifetime"),
    [
        ("90m", timedelta(minutes=90)),
        ("12h", timedelta(hours=12)),
        ("30d", timedelta(days=30)),
        (" 2w ", timedelta(weeks=2)),
    ],
)
def test_lifetimes(text: str, lifetime: timedelta) -> None:
    assert parse_expiry(text, NOW) == NOW + lifetime


def test_dates_and_times() -> None:
    assert parse_expiry("2027-01-31T00:00:00+00:00", NOW) == datetime(2027, 1, 31, tzinfo=UTC)
    local = parse_expiry("2027-01-31", NOW)  # a bare date: that day's start, local time
    assert local.tzinfo is not None
    assert local.replace(tzinfo=None) == datetime(2027, 1, 31)


@pytest.mark.parametrize("text", ["", "30", "d30", "30 days", "1.5h", "-3d", "tomorrow"])
def test_nonsense_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="lifetime such as"):
        parse_expiry(text, NOW)


@pytest.mark.parametrize("text", ["0m", "2026-11-26T11:59:00+00:00"])
def test_the_past_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="in the future"):
        parse_expiry(text, NOW)


@pytest.mark.parametrize(
    ("offset", "text"),
    [
        (timedelta(seconds=-5), "just now"),
        (timedelta(seconds=30), "in less than a minute"),
        (timedelta(minutes=-1), "1 minute ago"),
        (timedelta(hours=-3, minutes=-29), "3 hours ago"),
        (timedelta(hours=-3, minutes=-31), "4 hours ago"),  # to the nearest hour
        (timedelta(hours=12), "in 12 hours"),
        (timedelta(hours=23, minutes=40), "in 1 day"),  # not "in 24 hours"
        (timedelta(minutes=59, seconds=40), "in 1 hour"),
        (timedelta(days=3), "in 3 days"),
        (timedelta(days=30, seconds=-10), "in 30 days"),  # --expires 30d, a moment later
        (timedelta(weeks=2, seconds=-10), "in 14 days"),
        (timedelta(days=45), "in 45 days"),
        (timedelta(days=59, hours=20), "in 2 months"),
        (timedelta(days=90), "in 3 months"),
        (timedelta(days=-800), "2 years ago"),
    ],
)
def test_relative(offset: timedelta, text: str) -> None:
    assert relative(ms(NOW + offset), NOW) == text


def test_relative_none_is_never_and_absolute_is_utc() -> None:
    assert relative(None, NOW) == "never"
    assert absolute(ms(NOW)) == "2026-11-26 12:00 UTC"
