"""The bearer secret of a request (RFC 6750 ``Authorization: Bearer <secret>``)."""


def bearer_secret(authorization: str | None) -> str | None:
    """The secret in an ``Authorization`` header value, or None if there is none."""
    if not authorization:
        return None
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip() or None
