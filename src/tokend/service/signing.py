"""The id_token signing keys: made on first use, sealed at rest, rotated by the
operator; every node signs with the newest generation in the database.

joserfc does all the JOSE work (key generation, JWK form, signing)."""

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeyParameters, KeySetSerialization, RSAKey

from tokend.domain.errors import NotConfigured, TokendError
from tokend.domain.sealing import Sealer
from tokend.domain.signing_keys import ALGORITHM, RSA_BITS, StoredSigningKey, new_kid
from tokend.service.clock import Clock, system_clock
from tokend.service.ports import UnitOfWorkFactory


class SigningUnavailable(NotConfigured):
    """No secret to seal signing keys with: Sign in with tokend is off."""

    def __init__(self) -> None:
        super().__init__(
            "Sign in with tokend is not set up on this server: the operator sets "
            "TOKEND_SIGNING_KEY_SECRET (32 or more random characters) and restarts tokend."
        )


@dataclass(slots=True)
class SigningKeys:
    uow: UnitOfWorkFactory
    sealer: Sealer | None
    # How long a retired key stays in the JWKS: the longest an id_token it signed lives.
    keep_ms: int
    clock: Clock = system_clock
    _opened: dict[str, RSAKey] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def enabled(self) -> bool:
        return self.sealer is not None

    def current(self) -> "Signer":
        """The newest key, ready to sign. Taken before a transaction that signs: the
        first key is made in a transaction of its own."""
        stored = self._newest()
        return Signer(stored.kid, stored.alg, self._open(stored))

    def jwks(self) -> KeySetSerialization:
        """The published public keys: the newest, and those retired less than
        ``keep_ms`` ago."""
        self._newest()  # the first visitor of the JWKS makes the first key
        now = self.clock()
        with self.uow() as uow:
            keys = uow.signing_keys.all()
        return {
            "keys": [
                json.loads(key.public_jwk) for key in keys if key.is_published(now, self.keep_ms)
            ]
        }

    def rotate(self) -> StoredSigningKey:
        """A new newest key; the old one keeps being published for ``keep_ms``."""
        sealer = self._sealer()
        now = self.clock()
        with self.uow(write=True) as uow:
            newest = uow.signing_keys.newest()
            made = _make(sealer, 1 if newest is None else newest.generation + 1, now)
            if not uow.signing_keys.add(made):
                raise TokendError("Another rotation ran at the same moment; run it again.")
            if newest is not None:
                uow.signing_keys.retire(newest.generation, now)
            uow.signing_keys.prune(now - self.keep_ms)
            uow.commit()
        return made

    def _newest(self) -> StoredSigningKey:
        sealer = self._sealer()
        with self.uow() as uow:
            newest = uow.signing_keys.newest()
        if newest is not None:
            return newest
        made = _make(sealer, 1, self.clock())
        with self.uow(write=True) as uow:
            added = uow.signing_keys.add(made)
            newest = made if added else uow.signing_keys.newest()
            uow.commit()
        assert newest is not None
        return newest

    def _open(self, stored: StoredSigningKey) -> RSAKey:
        with self._lock:
            key = self._opened.get(stored.kid)
        if key is None:
            pem = self._sealer().open(stored.private_key, stored.kid)
            key = RSAKey.import_key(pem, parameters=_parameters(stored.kid, stored.alg))
            with self._lock:
                self._opened[stored.kid] = key
        return key

    def _sealer(self) -> Sealer:
        if self.sealer is None:
            raise SigningUnavailable()
        return self.sealer


@dataclass(frozen=True, slots=True)
class Signer:
    kid: str
    alg: str
    key: RSAKey = field(repr=False)

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode({"alg": self.alg, "kid": self.kid, "typ": "JWT"}, claims, self.key)


def _parameters(kid: str, alg: str) -> KeyParameters:
    return {"kid": kid, "alg": alg, "use": "sig"}


def _make(sealer: Sealer, generation: int, now: int) -> StoredSigningKey:
    kid = new_kid()
    key = RSAKey.generate_key(RSA_BITS, parameters=_parameters(kid, ALGORITHM), private=True)
    return StoredSigningKey(
        generation=generation,
        kid=kid,
        alg=ALGORITHM,
        public_jwk=json.dumps(key.as_dict(private=False), sort_keys=True),
        private_key=sealer.seal(key.as_pem(private=True), kid),
        created_at=now,
    )
