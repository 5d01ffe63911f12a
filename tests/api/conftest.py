"""The people of the page tests, for the API tests of "Sign in with tokend", whose
codes come from a signed-in browser's consent."""

from tests.web.conftest import make_person, person, signed_in

__all__ = ["make_person", "person", "signed_in"]
