"""Keeps secrets out of the server's logs, whatever a client puts in a URL."""

import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

from tokend.domain.secret import ANY_PREFIX_PATTERN

_SECRET = re.compile(ANY_PREFIX_PATTERN + "(?![0-9A-Za-z])")
REDACTED = "[REDACTED]"


def redact(text: str) -> str:
    # Every secret has a "_" after its prefix: most log values (every access-log line
    # of a normal request) have none, and skip the regular expression.
    return _SECRET.sub(REDACTED, text) if "_" in text else text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging set-up, with the redaction filter on every handler."""
    config: dict[str, Any] = {
        **LOGGING_CONFIG,
        "filters": {"redact_secrets": {"()": RedactSecrets}},
        "handlers": {
            name: {**handler, "filters": ["redact_secrets"]}
            for name, handler in LOGGING_CONFIG["handlers"].items()
        },
        "loggers": {
            **LOGGING_CONFIG["loggers"],
            "tokend": {"handlers": ["default"], "level": "INFO", "propagate": False},
        },
    }
    return config
