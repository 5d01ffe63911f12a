"""The redaction rule, in-process: what is replaced and what is kept."""

import logging

import pytest

from tokend.domain.secret import SecretFormat
from tokend.http.log_redaction import REDACTED, RedactSecrets, redact

SECRET = SecretFormat().generate()
BODY = SECRET[4:]


@pytest.mark.parametrize(
    "text",
    [
        f"GET /v5/user/tokens/{SECRET} HTTP/1.1",
        f"GET /v5/user/tokens/{SECRET}X HTTP/1.1",
        f"?t={SECRET}abc",
        f"TKD_{BODY}",
        SECRET.upper(),
        SECRET[:39],
        BODY[:16],
        f"tkd%5F{BODY}",
        "".join(f"%{ord(c):02x}" for c in SECRET),
        "".join(f"%25{ord(c):02X}" for c in BODY[:20]),
        f"pfx_{BODY}_{BODY}",
    ],
)
def test_runs_that_could_carry_a_secret_are_redacted(text: str) -> None:
    redacted = redact(text)
    assert REDACTED in redacted
    for i in range(len(BODY) - 15):
        assert BODY[i : i + 16].upper() not in redacted.upper()


@pytest.mark.parametrize(
    "text",
    [
        '127.0.0.1:53210 - "GET /v6/user/tokens?limit=20&until=1732612345678 HTTP/1.1" 200',
        f"tkd_{BODY[:15]}",  # 15 characters leave 15 random ones (89 bits) unknown
        "database unavailable on GET /v2/user: OperationalError",
        "sqlalchemy.exc.ProgrammingError: UnicodeEncodeError",
        "unexpected error, request id 0b6f2f4e-3c1e-4f55-9a57-1f0f6a3c0d9e",
        "100% done, %zz, é" + "é" * 40,
    ],
)
def test_other_text_is_kept(text: str) -> None:
    assert redact(text) == text


def test_token_ids_are_redacted_too() -> None:
    # 24 random characters: in a URL they cannot be told from a piece of a secret.
    assert redact("DELETE /v3/user/tokens/AbCdEfGhIjKlMnOpQrStUvWx") == (
        f"DELETE /v3/user/tokens/{REDACTED}"
    )


def test_arguments_and_tracebacks_are_redacted() -> None:
    try:
        raise ValueError(f"bad url https://example.com/?t={SECRET}")
    except ValueError as error:
        record = logging.LogRecord(
            "tokend", logging.ERROR, __file__, 1, "failed: %s %r %d", (error, SECRET, 3), None
        )
        record.exc_info = (type(error), error, error.__traceback__)
    RedactSecrets().filter(record)
    text = logging.Formatter().format(record)
    assert BODY[:16] not in text
    assert BODY[-16:] not in text
    assert "ValueError" in text
    assert REDACTED in text
    assert "failed: " in text


def test_a_format_known_clean_still_has_its_arguments_redacted() -> None:
    # Access-log records share one format string, remembered as clean after the first:
    # the arguments are still checked every time, percent-encoded ones included.
    access = '%s - "%s %s HTTP/%s" %d'
    flt = RedactSecrets()
    for path in ("/v2/user", f"/v5/user/tokens/{SECRET}", f"/x?t=tkd%5F{BODY}", "/v2/user"):
        record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, access,
                                   ("127.0.0.1:5000", "GET", path, "1.1", 200), None)  # fmt: skip
        assert flt.filter(record)
        message = record.getMessage()
        assert BODY[:16] not in message
        assert (REDACTED in message) == (path != "/v2/user")
