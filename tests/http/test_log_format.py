"""JSON lines for what would otherwise bypass the log format: Python's warnings, other
libraries' loggers, exceptions nobody caught (in a thread, in a finaliser, in the main
thread), and `tokend serve` failing to start. Secrets are redacted in every field."""

import json
import os
import secrets
import string
import subprocess
import sys
from typing import Any

import pytest

SECRET = "tkd_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))

STRAYS = f"""
import logging.config, threading, warnings
from tokend.http.log_format import route_strays_to_logging
from tokend.http.log_redaction import uvicorn_log_config

logging.config.dictConfig(uvicorn_log_config("json"))
route_strays_to_logging()
warnings.warn("careful with {SECRET}")
logging.getLogger("sqlalchemy.pool").warning("a library says %s", "{SECRET}")
thread = threading.Thread(target=lambda: 1 / 0, name="doomed")
thread.start()
thread.join()

class Finalised:
    def __del__(self):
        raise ValueError("in a finaliser: {SECRET}")

Finalised()
raise RuntimeError("nobody caught {SECRET}")
"""


def json_lines(output: str) -> list[dict[str, Any]]:
    records = []
    for line in output.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line!r}")
    return records


def test_warnings_and_uncaught_exceptions_are_json_lines() -> None:
    done = subprocess.run(
        [sys.executable, "-c", STRAYS], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert done.stdout == ""
    records = json_lines(done.stderr)
    by_logger = {record["logger"]: record for record in records}
    assert "careful with" in by_logger["py.warnings"]["message"]
    assert by_logger["sqlalchemy.pool"]["level"] == "warning"
    problems = [r for r in records if r["logger"] == "tokend"]
    assert [r["level"] for r in problems] == ["error", "warning", "critical"]
    assert "thread doomed" in problems[0]["message"]
    assert "ZeroDivisionError" in problems[0]["exception"]
    assert "ValueError: in a finaliser" in problems[1]["exception"]
    assert "RuntimeError: nobody caught" in problems[2]["exception"]
    assert len(records) == 5
    assert SECRET[4:20] not in done.stderr
    assert done.stderr.count("[REDACTED]") >= 4  # one for each place it was put


@pytest.mark.parametrize(
    ("arguments", "env", "said"),
    [
        (["--port", "70000"], {}, "--port must be between 1 and 65535"),
        ([], {"TOKEND_WORKERS": "many"}, "invalid configuration: TOKEND_WORKERS"),
        ([], {"TOKEND_DATABASE_URL": "mysql://x/y"}, "invalid configuration"),
    ],
)
def test_a_failure_to_start_is_a_json_line(
    arguments: list[str], env: dict[str, str], said: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tokend", "serve", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "TOKEND_LOG_FORMAT": "json", **env},
    )
    assert done.returncode == 1
    assert done.stdout == ""
    [record] = json_lines(done.stderr)
    assert record["level"] == "error"
    assert said in record["message"]
