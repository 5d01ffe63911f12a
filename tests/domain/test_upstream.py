"""The rules of sign-in through an identity provider that need no network."""

import pytest

from tokend.domain.accounts import validate_username
from tokend.domain.upstream import (
    VerifiedClaims,
    button_label,
    email_domain_allowed,
    username_base,
    username_candidates,
)


def _claims(
    email: str | None = None, verified: bool = True, preferred: str | None = None
) -> VerifiedClaims:
    return VerifiedClaims("https://idp.example.com", "sub-1", email, verified, preferred, None)


@pytest.mark.parametrize(
    ("preferred", "email", "expected"),
    [
        ("ada", "x@example.com", "ada"),
        ("Ada.Lovelace@Example.com", None, "ada.lovelace"),  # Entra ID: the UPN
        (None, "grace+tokend@example.com", "grace-tokend"),
        ("___", "élodie@example.com", "lodie"),
        (None, None, "user"),
        ("!!!", "@@@", "user"),
        ("a" * 80, None, "a" * 40),
    ],
)
def test_a_new_account_is_named_after_what_the_provider_calls_the_person(
    preferred: str | None, email: str | None, expected: str
) -> None:
    base = username_base(_claims(email, preferred=preferred))
    assert base == expected
    for candidate in username_candidates(base, 20):
        assert validate_username(candidate) == candidate
    assert username_candidates("ada", 3) == ["ada", "ada-2", "ada-3"]


def test_email_domains_allow_verified_emails_of_exactly_those_domains() -> None:
    domains = ["example.com"]
    assert email_domain_allowed(_claims("ada@Example.COM"), domains)
    assert not email_domain_allowed(_claims("ada@example.com", verified=False), domains)
    assert not email_domain_allowed(_claims("ada@sub.example.com"), domains)
    assert not email_domain_allowed(_claims("ada@example.com.evil.test"), domains)
    assert not email_domain_allowed(_claims(None), domains)
    assert email_domain_allowed(_claims(None), [])  # no domains: anyone


def test_the_button_says_the_issuer_host_unless_named() -> None:
    assert button_label("https://login.microsoftonline.com/T/v2.0", None) == (
        "Sign in with login.microsoftonline.com"
    )
    assert button_label("https://kc.example.com/realms/x", "Sign in with ACME") == (
        "Sign in with ACME"
    )
