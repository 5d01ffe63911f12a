"""What is kept at rest instead of the secret.

SHA-256 is enough for 178 random bits: nobody brute-forces that, so a slow
password hash would only slow every request. A pepper (HMAC key kept outside
the database) makes a stolen database useless even for checking guesses.
"""

import hashlib
import hmac
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Digester:
    pepper: bytes | None = field(default=None, repr=False)

    def digest(self, secret: str) -> bytes:
        data = secret.encode("utf-8")
        if self.pepper:
            return hmac.new(self.pepper, data, hashlib.sha256).digest()
        return hashlib.sha256(data).digest()
