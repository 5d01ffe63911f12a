"""GitHub secret scanning's signature check: ECDSA P-256 with SHA-256 over the raw body.

The keys come from the file named by ``TOKEND_SECRET_SCANNING_KEYS``: the JSON
document GitHub publishes (``{"public_keys": [{"key_identifier", "key", "is_current"}]}``,
``key`` in PEM). It is read again whenever it changes, so an operator refreshes the
keys by replacing the file, without a restart.
"""

import base64
import binascii
import json
import threading
from pathlib import Path

from cryptography.exceptions import InvalidSignature as CryptographyInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from tokend.domain.errors import InvalidSignature

KEY_ID_HEADER = "Github-Public-Key-Identifier"
SIGNATURE_HEADER = "Github-Public-Key-Signature"


class KeysUnavailable(Exception):
    """The keys file is not set, unreadable or not GitHub's format (an operator's fix)."""


class GitHubKeys:
    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._loaded_from: tuple[int, int] | None = None  # (mtime_ns, size) of the file
        self._keys: dict[str, ec.EllipticCurvePublicKey] = {}

    def verify(self, payload: bytes, key_id: str | None, signature: str | None) -> None:
        """Raise InvalidSignature unless ``signature`` is a valid signature of
        ``payload`` by the key ``key_id``; KeysUnavailable, whatever was sent, when
        this server has no keys to check it with."""
        keys = self._current_keys()
        if not key_id or not signature:
            raise InvalidSignature(
                f"A leak report must be signed: send {KEY_ID_HEADER} and {SIGNATURE_HEADER}."
            )
        key = keys.get(key_id)
        if key is None:
            raise InvalidSignature("The report is signed with a key this server does not know.")
        try:
            key.verify(
                base64.b64decode(signature, validate=True), payload, ec.ECDSA(hashes.SHA256())
            )
        except (binascii.Error, ValueError, CryptographyInvalidSignature):
            raise InvalidSignature("The report's signature does not match its body.") from None

    def _current_keys(self) -> dict[str, ec.EllipticCurvePublicKey]:
        if self._path is None:
            raise KeysUnavailable("TOKEND_SECRET_SCANNING_KEYS is not set")
        try:
            stat = self._path.stat()
        except OSError as error:
            raise KeysUnavailable(f"cannot read {self._path}: {error.strerror}") from None
        with self._lock:
            if self._loaded_from != (stat.st_mtime_ns, stat.st_size):
                self._keys = _parse(self._path)
                self._loaded_from = (stat.st_mtime_ns, stat.st_size)
            return self._keys


def _parse(path: Path) -> dict[str, ec.EllipticCurvePublicKey]:
    try:
        document = json.loads(path.read_bytes())
        keys: dict[str, ec.EllipticCurvePublicKey] = {}
        for entry in document["public_keys"]:
            key = load_pem_public_key(entry["key"].encode())
            if isinstance(key, ec.EllipticCurvePublicKey):
                keys[str(entry["key_identifier"])] = key
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise KeysUnavailable(f"{path} is not GitHub's public-keys document: {error!r}") from None
    return keys
