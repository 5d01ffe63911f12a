"""A typed Python client for a tokend server; it needs only httpx and pydantic."""

from tokend.client.asynchronous import AsyncClient, AsyncTokens
from tokend.client.connection import ConfigurationError
from tokend.client.device import (
    DeviceLogin,
    DeviceLoginDenied,
    DeviceLoginExpired,
    DeviceLoginFailed,
)
from tokend.client.errors import (
    APIError,
    AuthenticationFailed,
    ClientError,
    InvalidResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerUnreachable,
    ServiceUnavailable,
)
from tokend.client.retry import NO_RETRIES, RetryPolicy
from tokend.client.sync import Client, Tokens

__all__ = [
    "NO_RETRIES",
    "APIError",
    "AsyncClient",
    "AsyncTokens",
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
    "Tokens",
]
