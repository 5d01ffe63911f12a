"""Lifecycle and validation rules of a token."""

import dataclasses
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokend.domain.errors import ExpiredToken, LeakedToken, RevokedToken, ValidationFailed
from tokend.domain.scopes import Scope
from tokend.domain.tokens import (
    MAX_TIMESTAMP_MS,
    NAME_MAX_LENGTH,
    PROJECT_ID_MAX_LENGTH,
    Origin,
    Token,
    validate_expiry,
    validate_name,
    validate_project_id,
)


def make_token(**changes: object) -> Token:
    token = Token(
        id="t" * 24,
        user_id="u" * 24,
        name="ci",
        digest=b"\0" * 32,
        prefix="tkd_",
        suffix="abcd",
        origin=Origin.MANUAL,
        scope=Scope.user(),
        created_at=1000,
        active_at=1000,
    )
    return dataclasses.replace(token, **changes)  # type: ignore[arg-type]


def test_a_fresh_token_is_live() -> None:
    token = make_token()
    assert token.is_live(now=5000)
    token.ensure_live(now=5000)


def test_expiry_is_exclusive_of_the_instant() -> None:
    token = make_token(expires_at=2000)
    assert token.is_live(1999)
    assert not token.is_live(2000)
    with pytest.raises(ExpiredToken):
        token.ensure_live(2000)
    assert token.is_listed


@pytest.mark.parametrize(
    ("changes", "error"),
    [({"revoked_at": 1500}, RevokedToken), ({"leaked_at": 1500, "revoked_at": 1500}, LeakedToken)],
)
def test_revoked_and_leaked_tokens_are_dead_and_unlisted(
    changes: dict[str, int], error: type[Exception]
) -> None:
    token = make_token(**changes)
    assert not token.is_live(1600)
    assert not token.is_listed
    with pytest.raises(error):
        token.ensure_live(1600)


def test_activity_updates_only_once_per_window() -> None:
    token = make_token(active_at=1000)
    assert not token.needs_activity_update(now=60_999, resolution_ms=60_000)
    assert token.needs_activity_update(now=61_000, resolution_ms=60_000)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "tab\there", "nul\0", "\ud800"])
def test_bad_names(name: str) -> None:
    with pytest.raises(ValidationFailed):
        validate_name(name)


@pytest.mark.parametrize(
    "name", ["a", "x" * 100, "déploiement 🚀", "עברית", "👨\u200d👩\u200d👧", "本番\u3000トークン"]
)
def test_good_names(name: str) -> None:
    assert validate_name(name) == name


def test_expiry_must_be_future_and_bounded() -> None:
    assert validate_expiry(None, now=10) is None
    assert validate_expiry(11, now=10) == 11
    for bad in (10, 9, -1, MAX_TIMESTAMP_MS + 1):
        with pytest.raises(ValidationFailed):
            validate_expiry(bad, now=10)


def test_project_id() -> None:
    assert validate_project_id("prj_1") == "prj_1"
    for bad in ("", "x" * 257, "a\0b"):
        with pytest.raises(ValidationFailed):
            validate_project_id(bad)


# --- property-based: every input is accepted as it is, or refused with ValidationFailed

any_text = st.text(st.characters(exclude_categories=()), max_size=300)


def has_no_control_characters(text: str) -> bool:
    # Control characters and lone surrogates (categories Cc and Cs) are never stored.
    return all(unicodedata.category(char) not in ("Cc", "Cs") for char in text)


@given(any_text)
def test_a_name_is_accepted_unchanged_or_refused(name: str) -> None:
    try:
        assert validate_name(name) == name
    except ValidationFailed:
        return
    assert name.strip()
    assert len(name) <= NAME_MAX_LENGTH
    assert has_no_control_characters(name)


@given(st.none() | any_text)
def test_a_project_id_is_accepted_unchanged_or_refused(project_id: str | None) -> None:
    try:
        assert validate_project_id(project_id) == project_id
    except ValidationFailed:
        return
    if project_id is not None:
        assert 1 <= len(project_id) <= PROJECT_ID_MAX_LENGTH
        assert has_no_control_characters(project_id)


@given(st.none() | st.integers(), st.integers(min_value=0, max_value=MAX_TIMESTAMP_MS))
def test_an_expiry_is_accepted_unchanged_or_refused(expires_at: int | None, now: int) -> None:
    try:
        assert validate_expiry(expires_at, now) == expires_at
    except ValidationFailed:
        return
    assert expires_at is None or now < expires_at <= MAX_TIMESTAMP_MS


def test_a_successor_keeps_the_lifetime_length_up_to_the_latest_instant() -> None:
    assert make_token().successor_expiry(now=5000) is None
    assert make_token(expires_at=3000).successor_expiry(now=5000) == 7000
    far = make_token(expires_at=MAX_TIMESTAMP_MS)
    assert far.successor_expiry(now=5000) == MAX_TIMESTAMP_MS
