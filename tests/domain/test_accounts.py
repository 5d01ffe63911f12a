import pytest

from tokend.domain.accounts import validate_email, validate_slug, validate_username
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
