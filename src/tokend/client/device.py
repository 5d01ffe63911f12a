"""Device login (RFC 8628), the client's side: ask for codes, show them to the person,
poll until they approve in a browser, receive a token.

    from tokend.client.device import DeviceLogin

    with DeviceLogin("https://tokens.example.com") as login:
        codes = login.start(name="build box")
        print(f"Open {codes.verification_uri_complete} and check the code {codes.user_code}")
        token = login.wait(codes)  # blocks until approved, denied or expired

`tokend login --web` is this, printed on stderr. Needs only httpx and pydantic.
"""

import time
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

import httpx
from pydantic import ValidationError

from tokend.client.connection import headers, resolve_base_url
from tokend.client.errors import (
    APIError,
    ClientError,
    InvalidResponse,
    ServerUnreachable,
    api_error,
)
from tokend.models import (
    DEVICE_CODE_GRANT,
    DeviceCodeResponse,
    DeviceTokenResponse,
    OAuthError,
)

DEVICE_CODE_PATH = "/v1/oauth/device/code"
TOKEN_PATH = "/v1/oauth/token"
SLOW_DOWN_STEP_S = 5  # RFC 8628 §3.5
# A poll that cannot reach the server (or finds it busy) is tried again, but not
# forever: after this many failures in a row the login gives up.
MAX_FAILED_POLLS = 10


class DeviceLoginFailed(ClientError):
    """The login ended without a token; ``code`` is the OAuth error (access_denied,
    expired_token, invalid_grant, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r})"


class DeviceLoginDenied(DeviceLoginFailed):
    """The person pressed Deny."""


class DeviceLoginExpired(DeviceLoginFailed):
    """Nobody approved before the codes expired."""


M = TypeVar("M", DeviceCodeResponse, DeviceTokenResponse)


class DeviceLogin:
    """A device login against one server. ``client_id`` names the program to the server
    (sent with every request, as RFC 8628 asks); ``sleep`` and ``clock`` are
    replaceable for tests and event loops."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        client_id: str = "tokend-python",
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = resolve_base_url(base_url)
        self.client_id = client_id
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers(None), timeout=timeout, transport=transport
        )

    def start(self, *, name: str | None = None, scope: str | None = None) -> DeviceCodeResponse:
        """New codes; ``name`` becomes the token's name, shown to the person."""
        form = {"client_id": self.client_id}
        if name:
            form["name"] = name
        if scope:
            form["scope"] = scope
        response = self._post(DEVICE_CODE_PATH, form)
        if response.status_code == 200:
            return _parse(DeviceCodeResponse, response)
        raise _failure(response)

    def poll(self, codes: DeviceCodeResponse) -> str | None:
        """One poll: the token once approved, None while the person has not decided.
        Raises `DeviceLoginFailed` (``slow_down`` included: `wait` handles it)."""
        form = {
            "grant_type": DEVICE_CODE_GRANT,
            "device_code": codes.device_code,
            "client_id": self.client_id,
        }
        response = self._post(TOKEN_PATH, form)
        if response.status_code == 200:
            return _parse(DeviceTokenResponse, response).access_token
        failure = _failure(response)
        if isinstance(failure, DeviceLoginFailed) and failure.code == "authorization_pending":
            return None
        raise failure

    def wait(self, codes: DeviceCodeResponse) -> str:
        """Poll every ``interval`` seconds (5 more after each ``slow_down``) until the
        person decides: returns the token, or raises `DeviceLoginDenied`,
        `DeviceLoginExpired` or another `ClientError`."""
        interval = float(codes.interval)
        # The server's clock decides; this one ends the wait should its answers never
        # say so (a server that keeps answering slow_down, a laptop that slept).
        deadline = self._clock() + codes.expires_in
        failures = 0
        while True:
            self._sleep(interval)
            if self._clock() >= deadline:
                raise DeviceLoginExpired("expired_token", "The code expired before approval.")
            try:
                token = self.poll(codes)
            except DeviceLoginFailed as exc:
                if exc.code != "slow_down":
                    raise
                interval += SLOW_DOWN_STEP_S
                continue
            except (ServerUnreachable, APIError) as exc:
                # A dropped connection or a restarting server: the codes outlive it.
                transient = not isinstance(exc, APIError) or exc.status == 429 or exc.status >= 500
                failures += 1
                if not transient or failures >= MAX_FAILED_POLLS:
                    raise
                continue
            failures = 0
            if token is not None:
                return token

    def _post(self, path: str, form: dict[str, str]) -> httpx.Response:
        try:
            return self._http.post(path, data=form)
        except httpx.TransportError as exc:
            reason = "no answer in time" if isinstance(exc, httpx.TimeoutException) else str(exc)
            raise ServerUnreachable(self.base_url, reason or type(exc).__name__) from exc

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "DeviceLogin":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DeviceLogin(base_url={self.base_url!r}, client_id={self.client_id!r})"


_FAILURES: dict[str, type[DeviceLoginFailed]] = {
    "access_denied": DeviceLoginDenied,
    "expired_token": DeviceLoginExpired,
}


def _failure(response: httpx.Response) -> ClientError:
    """What an answer other than 200 means."""
    if response.status_code == 400:
        try:
            error = OAuthError.model_validate_json(response.content)
        except ValidationError:
            pass
        else:
            cls = _FAILURES.get(error.error, DeviceLoginFailed)
            return cls(error.error, error.error_description)
    return api_error(response)  # tokend's own error shape (413, 503, ...) or a proxy's page


def _parse(model: type[M], response: httpx.Response) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        raise InvalidResponse(
            f"the server's answer to {response.request.url.path} is not a device login answer; "
            "is this a tokend server?"
        ) from None
