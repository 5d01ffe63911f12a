"""Checks of the §5 error contract, shared by the error and robustness tests."""

import re
from typing import Any

import httpx

REALM = 'Bearer realm="tokend"'
INVALID_TOKEN_CHALLENGE = 'Bearer realm="tokend", error="invalid_token"'

# The code each status carries (§5); 401 has two.
CODES_BY_STATUS = {
    400: {"bad_request"},
    401: {"missing_token", "invalid_token", "invalid_signature"},
    403: {"forbidden"},
    404: {"not_found"},
    405: {"method_unknown"},
    408: {"request_timeout"},
    413: {"payload_too_large"},
    429: {"rate_limited"},
    431: {"request_header_fields_too_large"},
    500: {"internal_server_error"},
    503: {"service_unavailable"},
}

# Fields an error object carries besides code and message, by code.
_EXTRA_FIELDS = {"rate_limited": {"limit"}}

# Two English words in a row: a sentence, not a code, a number or a dump.
_ENGLISH = re.compile(r"[A-Za-z]{2,}[ ,:]+[A-Za-z]{2,}")
_STACK_TRACE = ("Traceback", 'File "', "Exception:", "Error:")


def error_body(status: int, text: str, content_type: str) -> dict[str, str]:
    """The ``error`` object of an error response, after checking its shape."""
    assert content_type.split(";")[0].strip() == "application/json", (status, content_type, text)
    body: Any = httpx.Response(status, content=text.encode()).json()
    assert isinstance(body, dict), text
    assert set(body) == {"error"}, text
    error = body["error"]
    assert isinstance(error, dict), text
    assert error.get("code") in CODES_BY_STATUS.get(status, set()), (status, text)
    assert set(error) == {"code", "message", *_EXTRA_FIELDS.get(error["code"], ())}, text
    message = error["message"]
    assert isinstance(message, str), text
    assert message.strip(), text
    assert _ENGLISH.search(message), f"not an English sentence: {message!r}"
    assert not any(marker in message for marker in _STACK_TRACE), message
    return {"code": error["code"], "message": message}


def assert_error(
    response: httpx.Response,
    status: int,
    code: str,
    headers: dict[str, str] | None = None,
) -> str:
    """Assert a §5 error answer and return its message."""
    assert response.status_code == status, (status, response.status_code, response.text)
    error = error_body(status, response.text, response.headers.get("content-type", ""))
    assert error["code"] == code, response.text
    for name, value in (headers or {}).items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    return error["message"]


# Headers that go with a code wherever it is answered.
_REQUIRED_HEADERS = {
    "missing_token": {"www-authenticate": REALM},
    "invalid_token": {"www-authenticate": INVALID_TOKEN_CHALLENGE},
}


def assert_sane(response: httpx.Response) -> None:
    """No 5xx; anything 4xx is a well-formed §5 error with the headers its code needs."""
    status = response.status_code
    request = response.request
    assert status < 500, f"{request.method} {request.url} -> {status}: {response.text}"
    if status < 400 or request.method == "HEAD":
        return
    error = error_body(status, response.text, response.headers.get("content-type", ""))
    for name, value in _REQUIRED_HEADERS.get(error["code"], {}).items():
        assert response.headers.get(name) == value, (error, name, response.headers.get(name))
    if status == 405:
        assert response.headers.get("allow"), "a 405 must say which methods are allowed"
