"""Signing as GitHub secret scanning does, with keys a test makes: the key document
tokend reads, signed report bodies."""

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

KEY_ID = "test-key-1"


def public_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def write_keys(path: Path, keys: dict[str, ec.EllipticCurvePrivateKey]) -> None:
    document = {
        "public_keys": [
            {"key_identifier": key_id, "key": public_pem(key), "is_current": True}
            for key_id, key in keys.items()
        ]
    }
    path.write_text(json.dumps(document))


def signed(body: bytes, key: ec.EllipticCurvePrivateKey, key_id: str = KEY_ID) -> dict[str, str]:
    signature = key.sign(body, ec.ECDSA(hashes.SHA256()))
    return {
        "Content-Type": "application/json",
        "Github-Public-Key-Identifier": key_id,
        "Github-Public-Key-Signature": base64.b64encode(signature).decode(),
    }


def findings(*secrets: str, url: str = "https://github.com/o/r/blob/main/.env") -> bytes:
    return json.dumps(
        [{"token": s, "type": "tokend_token", "url": url, "source": "content"} for s in secrets]
    ).encode()
