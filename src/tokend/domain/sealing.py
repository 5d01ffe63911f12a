"""Sealing secrets kept in the database (the id_token signing keys' private halves)
with a key that lives only in the environment: a copy of the database alone signs
nothing.

AES-256-GCM, the key derived with HKDF-SHA256 from the operator's secret; each seal
has a fresh random nonce and is bound to what it is (``context``, the key's id), so
a sealed value moved to another row does not open.
"""

import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_SECRET_LENGTH = 32
_NONCE_BYTES = 12
_VERSION = b"\x01"


class SealBroken(Exception):
    """A sealed value that does not open: another secret sealed it, or it was altered."""


@dataclass(frozen=True, slots=True)
class Sealer:
    secret: bytes = field(repr=False)
    _aead: AESGCM = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"the sealing secret must be at least {MIN_SECRET_LENGTH} bytes")
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"tokend sealed values v1"
        ).derive(self.secret)
        object.__setattr__(self, "_aead", AESGCM(key))

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        if sealed[:1] != _VERSION or len(sealed) < 1 + _NONCE_BYTES + 16:
            raise SealBroken("not a sealed value")
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, context.encode())
        except InvalidTag:
            raise SealBroken(
                "a signing key does not open with TOKEND_SIGNING_KEY_SECRET: was it changed?"
            ) from None
