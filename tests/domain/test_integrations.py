"""Which redirect URIs an integration may register, and exact matching."""

import pytest

from tokend.domain.errors import ValidationFailed
from tokend.domain.integrations import (
    Integration,
    validate_redirect_uri,
    validate_redirect_uris,
)


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example/callback",
        "https://app.example:8443/cb?tenant=1",
        "http://localhost:3000/cb",
        "http://127.0.0.1:9/callback",
        "http://[::1]:8080/cb",
        "com.example.app:/oauth2redirect",
    ],
)
def test_accepted(uri: str) -> None:
    assert validate_redirect_uri(uri) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "/relative/path",
        "http://app.example/cb",  # a code in the clear over the network
        "https://app.example/cb#fragment",
        "https:///no-host",
        "javascript:alert(1)",
        "data:text/html,hi",
        "file:///etc/passwd",
        "myapp:/cb",  # no dot: not a reverse-domain private scheme
        "https://app.example/c b",
        "https://app.example/\x00",
        "https://app.example/" + "x" * 2000,
        "https://user:pass@app.example/cb",  # credentials in the URI
        "https://a;script-src *.example/cb",  # would break out of the CSP header
        "https://app.example:99999999/cb",
        "https://app_example/cb",
    ],
)
def test_refused(uri: str) -> None:
    with pytest.raises(ValidationFailed):
        validate_redirect_uri(uri)


def test_a_list_needs_one_and_drops_repeats() -> None:
    with pytest.raises(ValidationFailed):
        validate_redirect_uris([])
    assert validate_redirect_uris(["https://a.example/cb"] * 2) == ("https://a.example/cb",)
    with pytest.raises(ValidationFailed):
        validate_redirect_uris([f"https://a.example/{n}" for n in range(21)])


def test_matching_is_exact() -> None:
    app = Integration("int_1", "oac_1", "App", b"", ("https://a.example/cb",), 0)
    assert app.allows("https://a.example/cb")
    for near in (
        "https://a.example/cb/",
        "https://a.example/cb?x",
        "https://A.example/cb",
        "https://a.example/c",
    ):
        assert not app.allows(near)
