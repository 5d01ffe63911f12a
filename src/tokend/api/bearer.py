"""The bearer secret of a request (RFC 6750 ``Authorization: Bearer <secret>``), and
how the OpenAPI document declares it."""

from typing import Any

SCHEME_NAME = "HTTPBearer"
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "A tokend token: `tkd_...`",
}
# For a route's openapi_extra, where it authenticates without the PrincipalDep
# dependency (which the OpenAPI document marks by itself).
BEARER_SECURITY: dict[str, Any] = {"security": [{SCHEME_NAME: []}]}


def bearer_secret(authorization: str | None) -> str | None:
    """The secret in an ``Authorization`` header value, or None if there is none."""
    if not authorization:
        return None
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip() or None
