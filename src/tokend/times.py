"""Times as people read them, in the CLI and on the web pages: "3 hours ago", "in 29
days", "2026-12-25 18:00 UTC"."""

from datetime import UTC, datetime

# unit, its length in seconds, and from how long on it is used. Months and years are
# approximate; below two months, days say it better ("in 30 days", not "in 1 month").
_SPANS: list[tuple[str, int, int]] = [
    ("year", 365 * 86400, 365 * 86400),
    ("month", 30 * 86400, 60 * 86400),
    ("day", 86400, 86400),
    ("hour", 3600, 3600),
    ("minute", 60, 60),
]


def relative(ms: int | None, now: datetime, never: str = "never") -> str:
    """``3 days ago``, ``in 29 days``, ``just now``; ``never`` for None."""
    if ms is None:
        return never
    seconds = (ms / 1000) - now.timestamp()
    span = abs(seconds)
    if span < 60:
        return "just now" if seconds <= 0 else "in less than a minute"
    for index, (unit, length, used_from) in enumerate(_SPANS):
        if span >= used_from:
            # To the nearest unit: 30 days less the seconds a request took is "30 days".
            count = int(span / length + 0.5)
            if index > 0 and count * length >= _SPANS[index - 1][2]:
                # Rounded up into the next unit: 23 h 40 min is "1 day".
                unit, length, _ = _SPANS[index - 1]
                count = int(span / length + 0.5)
            amount = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {amount}" if seconds > 0 else f"{amount} ago"
    raise AssertionError("unreachable: spans end at one minute")  # pragma: no cover


def absolute(ms: int) -> str:
    """The instant in UTC, to the minute: ``2026-12-25 18:00 UTC``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def now() -> datetime:
    return datetime.now(UTC)
