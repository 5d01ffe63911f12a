"""Exceptions raised by the domain and the service layer.

Messages are written for the person who sent the request and never contain a
secret: callers may put them in a response body as they are.
"""


class TokendError(Exception):
    """Base class of every error tokend raises on purpose."""


class ValidationFailed(TokendError):
    """Input that breaks a rule: an empty name, an expiry in the past, ..."""


class AuthenticationError(TokendError):
    """The request could not be tied to a live token."""


class MissingToken(AuthenticationError):
    """No bearer token was sent."""


class InvalidToken(AuthenticationError):
    """The bearer token is malformed, unknown, expired, revoked or leaked."""


class MalformedSecret(InvalidToken):
    """The string is not shaped like a tokend secret (prefix, length, alphabet, checksum)."""


class UnknownToken(InvalidToken):
    """Well-formed, but no stored token has this digest."""


class ExpiredToken(InvalidToken):
    """The token's expiry has passed."""


class RevokedToken(InvalidToken):
    """The token was revoked (deleted or rotated away)."""


class LeakedToken(InvalidToken):
    """The token was reported leaked and revoked because of it."""


class Forbidden(TokendError):
    """Authenticated, but this token may not do this."""


class NotFound(TokendError):
    """The resource does not exist, or is not visible to the caller."""


class Conflict(TokendError):
    """The resource already exists (a username or team slug taken)."""


class InvalidSignature(TokendError):
    """A leak report whose signature is missing, made with an unknown key, or wrong."""


class RateLimited(TokendError):
    """Too many failed authentications from the client's address: refused unverified
    until the window ends."""

    def __init__(self, *, limit: int, reset_ms: int, retry_after_s: int) -> None:
        super().__init__(
            "Too many failed authentication attempts from this address. "
            f"Retry in {retry_after_s} seconds."
        )
        self.limit = limit
        self.reset_ms = reset_ms  # when the window ends, ms since the epoch
        self.retry_after_s = retry_after_s
