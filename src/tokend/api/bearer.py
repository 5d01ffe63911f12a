"""How the OpenAPI document declares bearer authentication."""

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
