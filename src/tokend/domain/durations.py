"""Durations as operators write them ("3s", "15m", "12h", "90d", or plain seconds) and
as people read them ("30 days")."""

import re

from tokend.domain.errors import ValidationFailed

_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION = re.compile(r"(\d{1,9})\s*([smhd]?)")
# The longest duration anything accepts: further than any expiry could be (the year 9999).
MAX_DURATION_MS = 10_000 * 365 * 86_400_000


def parse_duration(text: str) -> int:
    """Milliseconds in ``text``: a whole number and a unit (s, m, h or d), or a whole
    number of seconds. Zero and anything else is a `ValidationFailed` saying how to
    write one."""
    match = _DURATION.fullmatch(text.strip().lower())
    ms = int(match.group(1)) * _UNIT_MS[match.group(2) or "s"] if match else 0
    if not 0 < ms <= MAX_DURATION_MS:
        raise ValidationFailed(
            f"{text!r} is not a duration: use a positive whole number and a unit, "
            "such as 30s, 15m, 12h or 90d (a bare number is seconds)."
        )
    return ms


def in_words(ms: int) -> str:
    """``ms`` in the largest unit that divides it ("90 days", "36 hours", "3 seconds");
    never shorter than what it stands for, so limits are never overstated."""
    for unit, size in (("day", 86_400_000), ("hour", 3_600_000), ("minute", 60_000)):
        if ms >= size and ms % size == 0:
            return _plural(ms // size, unit)
    seconds = ms // 1000 if ms % 1000 == 0 else round(ms / 1000, 3)
    return _plural(seconds, "second")


def _plural(amount: int | float, unit: str) -> str:
    text = str(amount) if isinstance(amount, int) else f"{amount:g}"
    return f"{text} {unit}" if amount == 1 else f"{text} {unit}s"


def short(ms: int) -> str:
    """``ms`` as an operator would write it back ("90d", "36h", "15m", "3s")."""
    for unit in ("d", "h", "m"):
        if ms % _UNIT_MS[unit] == 0:
            return f"{ms // _UNIT_MS[unit]}{unit}"
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"
