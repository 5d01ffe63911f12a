"""Sealed values open only with the same secret, for the same context, unaltered."""

import pytest

from tokend.domain.sealing import SealBroken, Sealer

SECRET = b"s" * 32


def test_a_sealed_value_opens_with_its_secret_and_context() -> None:
    sealed = Sealer(SECRET).seal(b"private key", "kid-1")
    assert b"private key" not in sealed
    assert Sealer(SECRET).open(sealed, "kid-1") == b"private key"


def test_each_seal_differs() -> None:
    sealer = Sealer(SECRET)
    assert sealer.seal(b"x", "k") != sealer.seal(b"x", "k")


@pytest.mark.parametrize(
    ("secret", "context", "change"),
    [
        (b"t" * 32, "kid-1", None),  # another secret
        (SECRET, "kid-2", None),  # moved to another row
        (SECRET, "kid-1", 20),  # a flipped byte
        (SECRET, "kid-1", 0),  # another format version
    ],
)
def test_anything_else_does_not_open(secret: bytes, context: str, change: int | None) -> None:
    sealed = bytearray(Sealer(SECRET).seal(b"private key", "kid-1"))
    if change is not None:
        sealed[change] ^= 1
    with pytest.raises(SealBroken):
        Sealer(secret).open(bytes(sealed), context)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="32"):
        Sealer(b"short")


def test_the_secret_is_not_in_its_repr() -> None:
    assert "sss" not in repr(Sealer(SECRET))
