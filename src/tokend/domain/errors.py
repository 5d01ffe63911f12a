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


class InactiveToken(ExpiredToken):
    """The token went unused (activeAt) for longer than its policy's inactivity limit."""


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


class SignInFailed(TokendError):
    """Wrong username or email, or wrong password: one message for both, so that
    nobody learns which accounts exist."""

    def __init__(self) -> None:
        super().__init__("Incorrect username, email or password.")


class SignInLocked(TokendError):
    """Too many failed sign-ins for this name within the window: password sign-in is
    refused until it ends (the account's tokens keep working)."""

    def __init__(self, *, retry_after_s: int) -> None:
        minutes = max(1, -(-retry_after_s // 60))
        super().__init__(
            "Too many failed sign-ins for this account. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )
        self.retry_after_s = retry_after_s


class SessionEnded(TokendError):
    """The browser's session is unknown, expired or signed out."""


class TooManyDeviceCodes(TokendError):
    """An address holds as many live device codes as it may; one expires within
    ``retry_after_s``."""

    def __init__(self, *, retry_after_s: int) -> None:
        super().__init__(
            "Too many device logins are waiting from this address. Finish or abandon "
            f"one, or retry in {retry_after_s} seconds."
        )
        self.retry_after_s = retry_after_s


class DeviceFlowError(TokendError):
    """An RFC 8628 §3.5 answer to a device polling for its token; ``code`` is the
    OAuth error code (authorization_pending, slow_down, access_denied, expired_token,
    invalid_grant, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class NotConfigured(TokendError):
    """A feature the operator has not set up (the message says which setting)."""
