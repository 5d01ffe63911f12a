"""What is kept at rest instead of the secret.

SHA-256 is enough for 178 random bits: nobody brute-forces that, so a slow
password hash would only slow every request. A pepper (HMAC key kept outside
the database) makes a stolen database useless even for checking guesses.
"""

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol


class Hash(Protocol):
    def digest(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Digester:
    pepper: bytes | None = field(default=None, repr=False)
    # A new hash object over the data: SHA-256, or HMAC-SHA256 keyed with the pepper.
    # Built once, and C-level for plain SHA-256, since every request digests a secret.
    hash: Callable[[bytes], Hash] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        new: Callable[[bytes], Hash] = (
            partial(hmac.new, self.pepper, digestmod=hashlib.sha256)
            if self.pepper
            else hashlib.sha256
        )
        object.__setattr__(self, "hash", new)

    def digest(self, secret: str) -> bytes:
        return self.hash(secret.encode("utf-8")).digest()
