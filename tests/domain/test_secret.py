"""The secret format: generation, checksum, and the parser that guards the database."""

import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokend.domain.errors import MalformedSecret
from tokend.domain.ids import BASE62
from tokend.domain.secret import SecretFormat, encode_checksum

FORMAT = SecretFormat()
base62_text = st.text(alphabet=BASE62, min_size=30, max_size=30)


def test_generated_secrets_have_the_documented_shape() -> None:
    secret = FORMAT.generate()
    assert len(secret) == 40
    assert secret.startswith("tkd_")
    assert all(char in BASE62 for char in secret[4:])
    assert FORMAT.check(secret) == secret


def test_generated_secrets_differ() -> None:
    assert len({FORMAT.generate() for _ in range(1000)}) == 1000


@given(base62_text)
def test_checksum_round_trips(random_part: str) -> None:
    checksum = encode_checksum(random_part)
    assert len(checksum) == 6
    value = 0
    for char in checksum:
        value = value * 62 + BASE62.index(char)
    assert value == zlib.crc32(random_part.encode())
    assert FORMAT.check("tkd_" + random_part + checksum)


@given(base62_text, st.integers(min_value=4, max_value=39), st.sampled_from(BASE62))
def test_any_single_character_change_is_rejected(
    random_part: str, position: int, replacement: str
) -> None:
    secret = "tkd_" + random_part + encode_checksum(random_part)
    mutated = secret[:position] + replacement + secret[position + 1 :]
    if mutated != secret:
        with pytest.raises(MalformedSecret):
            FORMAT.check(mutated)


@given(st.text(max_size=80))
def test_arbitrary_text_is_rejected_or_is_a_valid_secret(candidate: str) -> None:
    try:
        FORMAT.check(candidate)
    except MalformedSecret:
        return
    body = candidate[4:]
    assert candidate.startswith("tkd_")
    assert encode_checksum(body[:30]) == body[30:]


@pytest.mark.parametrize(
    "candidate",
    [
        "",
        "tkd_",
        "xyz_" + "a" * 36,
        "tkd_" + "a" * 35,
        "tkd_" + "a" * 37,
        "tkd_" + "é" * 36,
        "tkd_" + "-" * 36,
        "TKD_" + "a" * 36,
    ],
)
def test_malformed_examples(candidate: str) -> None:
    with pytest.raises(MalformedSecret):
        FORMAT.check(candidate)


def test_custom_prefix() -> None:
    custom = SecretFormat("acme_")
    secret = custom.generate()
    assert secret.startswith("acme_")
    assert len(secret) == custom.length == 41
    assert custom.check(secret) == secret
    with pytest.raises(MalformedSecret):
        FORMAT.check(secret)


@pytest.mark.parametrize("prefix", ["", "tkd", "TKD_", "1tk_", "a-b_", "averyveryverylongprefix_"])
def test_bad_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        SecretFormat(prefix)


def test_pattern_matches_secrets_for_scanners() -> None:
    import re

    secret = FORMAT.generate()
    assert re.findall(FORMAT.pattern, f"token={secret}; other") == [secret]
