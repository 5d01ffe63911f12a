"""Device authorization (RFC 8628): a device shows a short code, a signed-in person
enters it at /device and approves; the device, polling, then receives a token."""

import secrets
from dataclasses import dataclass
from enum import StrEnum

# Consonants only, no vowels (no words), none easily confused (RFC 8628 §6.1): 20^8
# codes, about 34.5 bits, against a handful of guesses a minute for 10 minutes.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
LIFETIME_MS = 10 * 60_000
INTERVAL_S = 5
SLOW_DOWN_STEP_S = 5  # RFC 8628 §3.5: each slow_down adds 5 s to the interval
CLIENT_ID_MAX_LENGTH = 100
SCOPE_MAX_LENGTH = 200
# Live codes one address may hold at once: enough for a room of devices, while a
# script asking for codes in a loop cannot fill the table.
MAX_PENDING_PER_ADDRESS = 20


class DeviceStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    DONE = "done"  # the token was handed out


@dataclass(frozen=True, slots=True)
class DeviceAuthorization:
    id: str
    device_code_digest: bytes
    user_code_digest: bytes
    client_id: str
    scope: str | None
    name: str  # the token's name, shown to the person before they approve
    created_at: int
    expires_at: int
    interval_s: int
    polled_at: int | None
    status: DeviceStatus
    user_id: str | None = None  # who approved or denied
    ip: str | None = None  # the device's address, which the per-address cap counts

    def is_expired(self, now: int) -> bool:
        return now >= self.expires_at


def new_user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


def format_user_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalize_user_code(text: str) -> str | None:
    """The code as typed (any case, with or without the hyphen or spaces), or None if it
    cannot be one."""
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != USER_CODE_LENGTH or any(c not in USER_CODE_ALPHABET for c in code):
        return None
    return code
