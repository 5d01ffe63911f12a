"""The secret format: generation, checksum, and the parser that guards the database."""

import zlib

import pytest
from hypothesis import assume, given
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


@given(
    base62_text,
    st.integers(min_value=3, max_value=39),
    st.sampled_from(BASE62) | st.characters(exclude_categories=()),
)
def test_any_single_character_change_is_rejected(
    random_part: str, position: int, replacement: str
) -> None:
    # Anywhere past the prefix's letters, to anything: CRC32 catches every one-character
    # change of the random part, and 6 base62 digits hold every CRC32 value. (A changed
    # prefix letter can make another valid prefix: any prefix ever issued is accepted,
    # and the digest then matches no token.)
    secret = "tkd_" + random_part + encode_checksum(random_part)
    mutated = secret[:position] + replacement + secret[position + 1 :]
    assume(mutated != secret)
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


@given(st.text(st.characters(exclude_categories=()), min_size=36, max_size=36))
def test_right_length_and_prefix_with_any_body_is_rejected_or_valid(body: str) -> None:
    # Arbitrary text rarely has a secret's length and prefix; these all pass that cheap
    # test, so the alphabet and checksum checks see every character, surrogates too.
    candidate = "tkd_" + body
    try:
        FORMAT.check(candidate)
    except MalformedSecret:
        assert not (set(body) <= set(BASE62) and encode_checksum(body[:30]) == body[30:])
        return
    assert encode_checksum(body[:30]) == body[30:]


@given(st.from_regex(r"[a-z][a-z0-9]{0,14}_", fullmatch=True))
def test_every_valid_prefix_round_trips_and_keeps_verifying(prefix: str) -> None:
    custom = SecretFormat(prefix)
    secret = custom.generate()
    assert custom.check(secret) == secret
    assert len(secret) == custom.length
    # The setting names the prefix of new secrets: a server whose prefix changed
    # still takes the secrets it issued before (and the checksum still guards them).
    assert FORMAT.check(secret) == secret
    assert custom.check(FORMAT.generate())


@given(st.text(max_size=20))
def test_a_prefix_is_valid_or_refused_with_value_error(prefix: str) -> None:
    try:
        SecretFormat(prefix)
    except ValueError:
        return
    assert prefix.endswith("_")
    assert "a" <= prefix[0] <= "z"


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
        "_" + "a" * 36,
        "averyveryverylongprefix_" + "a" * 36,
        "a-b_" + "a" * 36,
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
    assert FORMAT.check(secret) == secret  # issued under another prefix: still a secret


@pytest.mark.parametrize("prefix", ["", "tkd", "TKD_", "1tk_", "a-b_", "averyveryverylongprefix_"])
def test_bad_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        SecretFormat(prefix)


def test_pattern_matches_secrets_for_scanners() -> None:
    import re

    secret = FORMAT.generate()
    assert re.findall(FORMAT.pattern, f"token={secret}; other") == [secret]
