"""Times as people write them ("30d", "2027-01-31") and read them (from `tokend.times`)."""

import re
from datetime import datetime, timedelta

from tokend.times import absolute, now, relative

__all__ = ["absolute", "now", "parse_expiry", "relative"]

_LIFETIME = re.compile(r"(\d{1,6})([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_expiry(text: str, now: datetime) -> datetime:
    """An expiry from a lifetime (``90m``, ``12h``, ``30d``, ``2w``) or an ISO date/time.

    A bare date means the start of that day, and a time without an offset is local
    time, as people mean it when they type it.
    """
    text = text.strip()
    if match := _LIFETIME.fullmatch(text):
        amount, unit = int(match.group(1)), match.group(2)
        expiry = now + timedelta(**{_UNITS[unit]: amount})
    else:
        try:
            expiry = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                "use a lifetime such as 90m, 12h, 30d or 2w, or a date such as 2027-01-31"
            ) from None
        if expiry.tzinfo is None:
            expiry = expiry.astimezone()  # naive: the local time zone
    if expiry <= now:
        raise ValueError("the expiry must be in the future")
    return expiry
