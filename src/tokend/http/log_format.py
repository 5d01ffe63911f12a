"""``TOKEND_LOG_FORMAT=json``: every line `tokend serve` writes is one JSON object, for
log shippers that parse each line.

A line has ``time`` (UTC, milliseconds), ``level``, ``logger``, ``message``, ``pid``,
and, for lines written while a request is served, its ``request_id``; access-log lines
add ``client``, ``method``, ``path`` and ``status``; a traceback is the ``exception``
field (its newlines escaped, so it stays one line). The message, path and traceback
are those the redaction filter (`tokend.http.log_redaction`) left: it runs before
any formatter.

Lines that would bypass the loggers are sent through them: Python's warnings, and
exceptions nobody caught (in the main thread, another thread, or a finaliser).
"""

import json
import logging
import os
import sys
import threading
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from tokend.http import request_id

ACCESS_LOGGER = "uvicorn.access"
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class JsonLines(logging.Formatter):
    """A record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": f"{datetime.fromtimestamp(record.created, UTC):%Y-%m-%dT%H:%M:%S}"
            f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        rid = request_id.current.get()
        if rid is not None:
            line["request_id"] = rid
        if record.name == ACCESS_LOGGER and isinstance(record.args, tuple):
            # uvicorn's access record: (client, method, path, HTTP version, status).
            line.update(zip(_ACCESS_FIELDS, record.args, strict=False))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, default=str)


def route_strays_to_logging() -> None:
    """Warnings and uncaught exceptions as log records (so, as JSON lines) in this
    process, instead of text written straight to stderr."""
    logging.captureWarnings(True)
    log = logging.getLogger("tokend")

    def uncaught(
        kind: type[BaseException], value: BaseException, trace: TracebackType | None
    ) -> None:
        log.critical("uncaught %s", kind.__name__, exc_info=(kind, value, trace))

    def uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
        if issubclass(args.exc_type, SystemExit):
            return  # as Python's own hook: a thread's sys.exit() is no error
        name = args.thread.name if args.thread is not None else "?"
        log.error(
            "uncaught %s in thread %s",
            args.exc_type.__name__,
            name,
            exc_info=(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback),
        )

    def unraisable(hook: Any) -> None:
        kind = hook.exc_type
        log.warning(
            "%s: %s",
            hook.err_msg or "Exception ignored in",
            object.__repr__(hook.object) if hook.object is not None else "?",
            exc_info=(kind, hook.exc_value or kind(), hook.exc_traceback),
        )

    sys.excepthook = uncaught
    threading.excepthook = uncaught_in_thread
    sys.unraisablehook = unraisable


def json_line(message: str, *, level: str = "info", logger: str = "tokend.serve") -> str:
    """A line in the same shape, for what `tokend serve` says before logging is set
    up (a failure to start)."""
    record = logging.LogRecord(
        logger, logging.getLevelName(level.upper()), "", 0, message, (), None
    )
    record.process = os.getpid()
    return JsonLines().format(record)
