import contextlib
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokend.domain.accounts import (
    validate_display_name,
    validate_email,
    validate_slug,
    validate_username,
)
from tokend.domain.errors import ValidationFailed


@pytest.mark.parametrize("good", ["a", "alice", "a.b-c_d", "x" * 48])
def test_good_usernames(good: str) -> None:
    assert validate_username(good) == good


@pytest.mark.parametrize("bad", ["", "Alice", "-a", "a-", "a b", "x" * 49, "a\0"])
def test_bad_usernames(bad: str) -> None:
    with pytest.raises(ValidationFailed):
        validate_username(bad)


@pytest.mark.parametrize("bad", ["", "Team", "a_b", "-a", "x" * 49])
def test_bad_slugs(bad: str) -> None:
    with pytest.raises(ValidationFailed):
        validate_slug(bad)


def test_email() -> None:
    assert validate_email("a@b.c") == "a@b.c"
    with pytest.raises(ValidationFailed):
        validate_email("not-an-email")


@pytest.mark.parametrize(
    "validate", [validate_username, validate_slug, validate_email, validate_display_name]
)
@given(value=st.text(st.characters(exclude_categories=()), max_size=300))
def test_any_text_is_accepted_unchanged_or_refused(
    validate: Callable[[str], str | None], value: str
) -> None:
    with contextlib.suppress(ValidationFailed):
        assert validate(value) == value
