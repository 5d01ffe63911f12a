"""The keys that sign id_tokens, as stored: the newest generation signs, older ones
stay published while tokens they signed may still be presented."""

from dataclasses import dataclass

from tokend.domain import ids

ALGORITHM = "RS256"
RSA_BITS = 2048


@dataclass(frozen=True, slots=True)
class StoredSigningKey:
    generation: int
    kid: str
    alg: str
    public_jwk: str  # JSON
    private_key: bytes  # PEM, sealed (tokend.domain.sealing)
    created_at: int
    retired_at: int | None = None

    def is_published(self, now: int, keep_ms: int) -> bool:
        return self.retired_at is None or now < self.retired_at + keep_ms


def new_kid() -> str:
    return ids.random_base62(16)
