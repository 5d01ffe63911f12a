"""Verify tokend tokens inside another Python service, against tokend's database.

    from tokend.verify import BearerAuthMiddleware, VerifiedToken, Verifier, require_token

It brings tokend's verification along: the cache, revocations heard from every
tokend node within a second, and activeAt kept up to date.
"""

from tokend.domain.errors import AuthenticationError, InvalidToken, MissingToken
from tokend.http.bearer import bearer_secret
from tokend.verify.asgi import BearerAuthMiddleware
from tokend.verify.dependency import require_token
from tokend.verify.verifier import VerifiedToken, Verifier

__all__ = [
    "AuthenticationError",
    "BearerAuthMiddleware",
    "InvalidToken",
    "MissingToken",
    "VerifiedToken",
    "Verifier",
    "bearer_secret",
    "require_token",
]
