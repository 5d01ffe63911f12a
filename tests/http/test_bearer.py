"""bearer_secret: any Authorization header value gives a secret or None, never an error."""

from hypothesis import given
from hypothesis import strategies as st

from tokend.http.bearer import bearer_secret

# What Starlette hands over: header bytes decoded as Latin-1, and more besides.
header_values = st.text(st.characters(exclude_categories=())) | st.binary().map(
    lambda raw: raw.decode("latin-1")
)
schemes = st.sampled_from(["Bearer", "bearer", "BEARER", "bEaReR"])


@given(st.none() | header_values)
def test_any_header_value_gives_a_secret_or_none(value: str | None) -> None:
    secret = bearer_secret(value)
    if secret is not None:
        assert value is not None
        assert value[:7].lower() == "bearer "
        assert secret
        assert secret == secret.strip()
        assert secret in value


@given(schemes, st.text(min_size=1).map(str.strip).filter(bool), st.sampled_from(["", " ", "\t"]))
def test_the_secret_after_the_scheme_comes_back(scheme: str, sent: str, padding: str) -> None:
    assert bearer_secret(f"{scheme} {padding}{sent}{padding}") == sent


@given(header_values.filter(lambda value: value[:7].lower() != "bearer "))
def test_other_schemes_give_none(value: str) -> None:
    assert bearer_secret(value) is None
