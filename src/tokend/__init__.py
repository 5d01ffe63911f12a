"""tokend: self-hosted personal access tokens, Vercel-API compatible.

``from tokend import Client`` gives the HTTP client (and its errors and retry policy).
It is loaded on first use, so that the server's processes, which import this package
too, do not pay for it.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from tokend.client import (
        NO_RETRIES,
        APIError,
        AsyncClient,
        AuthenticationFailed,
        Client,
        ClientError,
        ConfigurationError,
        DeviceLogin,
        DeviceLoginDenied,
        DeviceLoginExpired,
        DeviceLoginFailed,
        InvalidResponse,
        NotFound,
        PermissionDenied,
        RateLimited,
        RetryPolicy,
        ServerUnreachable,
        ServiceUnavailable,
    )

__all__ = [
    "NO_RETRIES",
    "APIError",
    "AsyncClient",
    "AuthenticationFailed",
    "Client",
    "ClientError",
    "ConfigurationError",
    "DeviceLogin",
    "DeviceLoginDenied",
    "DeviceLoginExpired",
    "DeviceLoginFailed",
    "InvalidResponse",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "RetryPolicy",
    "ServerUnreachable",
    "ServiceUnavailable",
    "__version__",
]
# Everything but the version comes from the client, imported on first use.
_CLIENT_NAMES = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _CLIENT_NAMES:
        from tokend import client

        return getattr(client, name)
    raise AttributeError(f"module 'tokend' has no attribute {name!r}")
