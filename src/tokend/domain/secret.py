"""The bearer secret: ``<prefix><30 random base62><6 base62 of CRC32(random)>``.

The checksum lets a malformed or mistyped secret be refused without a database
look-up, and lets secret scanners tell a real tokend secret from noise.
"""

import re
import secrets
import zlib
from dataclasses import dataclass

from tokend.domain.errors import MalformedSecret
from tokend.domain.ids import BASE62

RANDOM_LENGTH = 30
CHECKSUM_LENGTH = 6
DEFAULT_PREFIX = "tkd_"
SUFFIX_LENGTH = 4

_PREFIX_RE = re.compile(r"[a-z][a-z0-9]{0,14}_")
_BODY_LENGTH = RANDOM_LENGTH + CHECKSUM_LENGTH
_BODY_PATTERN = f"[0-9A-Za-z]{{{_BODY_LENGTH}}}"
_MIN_LENGTH, _MAX_LENGTH = 2 + _BODY_LENGTH, 16 + _BODY_LENGTH
# A secret under any valid prefix, for redaction: a server whose prefix changed
# must still recognise secrets made under the old one.
ANY_PREFIX_PATTERN = _PREFIX_RE.pattern + _BODY_PATTERN
_BASE62_INDEX = {char: value for value, char in enumerate(BASE62)}


def encode_checksum(random_part: str) -> str:
    value = zlib.crc32(random_part.encode("ascii"))
    digits = []
    for _ in range(CHECKSUM_LENGTH):
        value, digit = divmod(value, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits))


@dataclass(frozen=True, slots=True)
class SecretFormat:
    """Makes and checks secrets for one prefix."""

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        if not _PREFIX_RE.fullmatch(self.prefix):
            raise ValueError(
                "token prefix must be 1-15 lowercase letters or digits, starting with a "
                f"letter, followed by '_' (got {self.prefix!r})"
            )

    @property
    def length(self) -> int:
        return len(self.prefix) + RANDOM_LENGTH + CHECKSUM_LENGTH

    @property
    def pattern(self) -> str:
        """A regular expression matching this format, for secret scanners."""
        return rf"\b{re.escape(self.prefix)}{_BODY_PATTERN}\b"

    def generate(self) -> str:
        random_part = "".join(secrets.choice(BASE62) for _ in range(RANDOM_LENGTH))
        return self.prefix + random_part + encode_checksum(random_part)

    def check_shape(self, candidate: str) -> str:
        """Return ``candidate`` if its length and prefix are right, else raise
        MalformedSecret: the cheap part of `check`, which bounds what gets hashed.

        Any valid prefix passes, not only the one new secrets get: the setting may have
        changed since a token was issued, and every token issued keeps working."""
        if len(candidate) == self.length and candidate.startswith(self.prefix):
            return candidate
        if not (_MIN_LENGTH <= len(candidate) <= _MAX_LENGTH) or not _PREFIX_RE.fullmatch(
            candidate[:-_BODY_LENGTH]
        ):
            raise _malformed()
        return candidate

    def check(self, candidate: str) -> str:
        """Return ``candidate`` if it is a well-formed secret, else raise MalformedSecret.

        Costs no I/O, so it runs before any database access.
        """
        body = self.check_shape(candidate)[-_BODY_LENGTH:]
        if any(char not in _BASE62_INDEX for char in body):
            raise _malformed()
        random_part, checksum = body[:RANDOM_LENGTH], body[RANDOM_LENGTH:]
        if not secrets.compare_digest(encode_checksum(random_part), checksum):
            raise _malformed()
        return candidate

    def suffix(self, secret: str) -> str:
        return secret[-SUFFIX_LENGTH:]


def _malformed() -> MalformedSecret:
    return MalformedSecret("The token is not a valid tokend token.")
