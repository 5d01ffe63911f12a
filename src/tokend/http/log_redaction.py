"""Keeps secrets out of the server's logs, whatever a client puts in a URL.

A secret's checksum is computed from its random part, so a log that shows most of
one (39 of its 40 characters, say) gives all of it back. The rule is therefore
about runs of characters, not about whole secrets: every run of 16 or more base62
characters (``[0-9A-Za-z]``) is replaced by ``[REDACTED]``, together with a
prefix-like ``xxx_`` in front of it, whatever its case and whatever follows it.
Runs are found in a percent-decoded copy of the text (decoded up to
`MAX_DECODINGS` times, as ``tkd%5F…``, ``%74%6B…`` or ``%2574…`` decode to a
secret), and the characters that encode them are what is replaced. A fragment of
at most 15 characters of a secret leaves at least 15 random characters (89 bits)
unknown.

Token ids (24 base62 characters) are redacted too: in a URL they cannot be told
from a piece of a secret pasted in their place. Exception class names
(CamelCase words ending in ``Error``, ``Exception`` or ``Warning``, such as
``OperationalError``) are kept, so that warnings stay readable; a random run has
that shape with a probability below one in 10^9.
"""

import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

REDACTED = "[REDACTED]"
MIN_RUN = 16
# A client, a proxy and a logger may each have encoded the text once more.
MAX_DECODINGS = 4

_BASE62 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Every base62 byte to "a", every other byte to " ": a run shows as MIN_RUN "a"s.
_RUN_BYTES = bytes(ord("a") if byte in _BASE62 else ord(" ") for byte in range(256))
_MIN_RUN_BYTES = b"a" * MIN_RUN
MAX_CLEAN_FORMATS = 256
_CLEAN_FORMATS: set[str] = set()
_RUN = re.compile(f"[0-9A-Za-z]{{{MIN_RUN},}}")
_PREFIX_BEFORE = re.compile("[A-Za-z][0-9A-Za-z]{0,14}_$")
_ESCAPE = re.compile("%[0-9A-Fa-f]{2}")
_EXCEPTION_NAME = re.compile("(?:[A-Z][a-z]+)+(?:Error|Exception|Warning)")


def redact(text: str) -> str:
    """``text`` with every run that could carry a secret's random part replaced."""
    # Fast path: most log values (every access-log line of a normal request) have no
    # run of 16 such characters and no percent sign.
    if "%" not in text:
        # Faster than a regular expression's search (base62 is ASCII, so UTF-8 bytes
        # stand for characters here).
        if _MIN_RUN_BYTES not in text.encode("utf-8", "surrogatepass").translate(_RUN_BYTES):
            return text
        return _redact_spans(text, _secret_spans(text, None))
    decoded, starts, ends = _decoded(text)
    return _redact_spans(text, _secret_spans(decoded, (starts, ends)))


def _decoded(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` percent-decoded until it no longer changes (at most `MAX_DECODINGS`
    times), with the span of ``text`` each decoded character came from."""
    starts = list(range(len(text)))
    ends = list(range(1, len(text) + 1))
    for _ in range(MAX_DECODINGS):
        if _ESCAPE.search(text) is None:
            break
        chars: list[str] = []
        new_starts: list[int] = []
        new_ends: list[int] = []
        position = 0
        for escape in _ESCAPE.finditer(text):
            begin, end = escape.span()
            chars.append(text[position:begin])
            new_starts += starts[position:begin]
            new_ends += ends[position:begin]
            chars.append(chr(int(text[begin + 1 : end], 16)))
            new_starts.append(starts[begin])
            new_ends.append(ends[end - 1])
            position = end
        chars.append(text[position:])
        new_starts += starts[position:]
        new_ends += ends[position:]
        text, starts, ends = "".join(chars), new_starts, new_ends
    return text, starts, ends


def _secret_spans(text: str, origin: tuple[list[int], list[int]] | None) -> list[tuple[int, int]]:
    """The spans (in the original text) of the runs of ``text`` to redact."""
    spans = []
    for match in _RUN.finditer(text):
        begin, end = match.span()
        prefix = None
        if begin and text[begin - 1] == "_":
            prefix = _PREFIX_BEFORE.search(text, max(0, begin - MIN_RUN), begin)
        if prefix is not None:
            begin = prefix.start()
        elif _EXCEPTION_NAME.fullmatch(match.group()):
            continue
        if origin is not None:
            begin, end = origin[0][begin], origin[1][end - 1]
        spans.append((begin, end))
    return spans


def _redact_spans(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    parts = []
    position = 0
    for begin, end in spans:  # in order; a prefix may reach back into the run before
        if begin >= position:
            parts.append(text[position:begin])
            parts.append(REDACTED)
        position = max(position, end)
    parts.append(text[position:])
    return "".join(parts)


class RedactSecrets(logging.Filter):
    """Redacts a record's message, its arguments (strings, and the text of any other
    object but a number) and its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _plainly_clean(record):
            return True
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_argument(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_argument(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            # Formatted here, so that the formatter uses the redacted text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _plainly_clean(record: logging.LogRecord) -> bool:
    """Whether the record (its message and plain arguments, no traceback) holds nothing
    to redact, checked in one pass: every request writes an access-log record, and
    redacting its parts one by one cost a visible share of a cached request."""
    if record.exc_info or record.exc_text or record.stack_info:
        return False
    msg, args = record.msg, record.args
    if not isinstance(msg, str) or not isinstance(args, tuple):
        return False
    # A format string's "%s" would send every record down the slow path: the few
    # formats found clean are remembered (access-log records all share one).
    if msg not in _CLEAN_FORMATS:
        if redact(msg) != msg:
            return False
        if len(_CLEAN_FORMATS) < MAX_CLEAN_FORMATS:
            _CLEAN_FORMATS.add(msg)
    texts = []
    for argument in args:
        if isinstance(argument, str):
            texts.append(argument)
        elif not (argument is None or isinstance(argument, int | float)):
            return False
    text = " ".join(texts)  # a space ends a run: no run spans two arguments
    return "%" not in text and _MIN_RUN_BYTES not in text.encode(
        "utf-8", "surrogatepass"
    ).translate(_RUN_BYTES)


def _redact_argument(argument: Any) -> Any:
    if isinstance(argument, str):
        return redact(argument)
    if argument is None or isinstance(argument, int | float):
        return argument
    text = str(argument)
    redacted = redact(text)
    return argument if redacted == text else redacted


def uvicorn_log_config(log_format: str = "text") -> dict[str, Any]:
    """uvicorn's own logging set-up, with the redaction filter on every handler; for
    ``json``, every formatter writes JSON lines and the root logger (other libraries'
    warnings, Python's warnings) writes through them too."""
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
    if log_format == "json":
        config["formatters"] = {
            name: {"()": "tokend.http.log_format.JsonLines"}
            for name in LOGGING_CONFIG["formatters"]
        }
        # Without a handler, the root logger's records would reach Python's last-resort
        # handler, which writes bare text.
        config["root"] = {"handlers": ["default"], "level": "WARNING"}
    return config
