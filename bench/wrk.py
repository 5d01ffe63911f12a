"""Load from a separate process: wrk (Debian package ``wrk``), and its report parsed."""

import argparse
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TypeVar

from bench.servers import BenchError, Target, log_tail

INSTALL_HINT = "wrk is not installed; install it with: apt-get install -y wrk"

_REQUESTS_PER_S = re.compile(r"^Requests/sec:\s+([0-9.]+)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)\s*$", re.MULTILINE)
# wrk prints this line only when some count is non-zero.
_SOCKET_ERRORS = re.compile(r"^\s*Socket errors: .*$", re.MULTILINE)
# --latency's distribution: "     50%  635.91us" (us, ms, s or m).
_PERCENTILE = re.compile(r"^\s+(50|99)%\s+([0-9.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_MS_PER_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class LoadSettings:
    # One wrk thread: wrk shares the 2 cores with the servers, and a second thread
    # would mostly take CPU from them. 32 connections keep both workers busy.
    threads: int = 1
    connections: int = 32
    seconds: int = 5  # wrk takes whole seconds
    # A request unanswered this long is a socket error (wrk's default is 2 s; writes
    # that queue for SQLite's one writer can take longer on a busy machine).
    timeout_s: int = 2


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    requests: int
    # With run_wrk(..., latency=True): the latency percentiles, in milliseconds.
    p50_ms: float | None = None
    p99_ms: float | None = None


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise BenchError(INSTALL_HINT)
    return path


def run_wrk(
    target: Target, load: LoadSettings, script: Path | None = None, *, latency: bool = False
) -> WrkResult:
    """Load one target; any non-2xx answer or timeout fails the benchmark. ``script``:
    a wrk Lua script, e.g. one that makes every request a POST (see post_script), in
    place of the target's own. ``latency``: also the 50th and 99th percentiles of the
    latency wrk measured (closed loop: each connection sends its next request when the
    answer is in)."""
    command = [
        require_wrk(),
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{load.seconds}s",
        f"--timeout={load.timeout_s}s",
    ]
    if latency:
        command.append("--latency")
    for name, value in target.headers.items():
        command += ["-H", f"{name}: {value}"]
    if (script or target.script) is not None:
        command += ["-s", str(script or target.script)]
    command.append(target.url)
    finished = subprocess.run(command, capture_output=True, text=True, timeout=load.seconds + 60)
    if finished.returncode != 0:
        raise BenchError(f"wrk against {target.name} failed:\n{finished.stderr}{finished.stdout}")
    try:
        return parse(target.name, finished.stdout)
    except BenchError as error:
        # The server's own log usually says why it answered what it did.
        raise BenchError(f"{error}\n{target.name} log:\n{log_tail(target.log)}") from None


def post_script(path: Path, body: str, content_type: str = "application/json") -> Path:
    """Write a wrk script that sends every request as a POST of ``body``."""

    def lua(text: str) -> str:
        # A Lua long string: no escaping to get wrong, as long as its closing
        # bracket is not in the text.
        if "]==]" in text:
            raise ValueError("the body cannot be put in a Lua long string")
        return f"[==[{text}]==]"

    path.write_text(
        f'wrk.method = "POST"\nwrk.body = {lua(body)}\n'
        f'wrk.headers["Content-Type"] = {lua(content_type)}\n'
    )
    return path


def parse(name: str, report: str) -> WrkResult:
    rate = _REQUESTS_PER_S.search(report)
    total = _TOTAL.search(report)
    if rate is None or total is None:
        raise BenchError(f"unreadable wrk report for {name}:\n{report}")
    # wrk counts 4xx and 5xx here (3xx are let through; the readiness check in
    # bench/servers.py refuses a redirect before any load is sent).
    non_2xx = _NON_2XX.search(report)
    if non_2xx is not None and int(non_2xx.group(1)) > 0:
        raise BenchError(f"{name} answered {non_2xx.group(1)} non-2xx responses:\n{report}")
    # Any socket error is a request without a proper answer: even gunicorn's sync
    # workers, which close every connection, announce it and cause none.
    if _SOCKET_ERRORS.search(report) is not None:
        raise BenchError(f"{name}: wrk saw socket errors:\n{report}")
    if int(total.group(1)) == 0:
        raise BenchError(f"{name} answered no request at all:\n{report}")
    percentiles = {
        int(match.group(1)): float(match.group(2)) * _MS_PER_UNIT[match.group(3)]
        for match in _PERCENTILE.finditer(report)
    }
    return WrkResult(
        float(rate.group(1)), int(total.group(1)), percentiles.get(50), percentiles.get(99)
    )


Measured = TypeVar("Measured")


def measure_from_command_line(
    prog: str,
    description: str | None,
    argv: Sequence[str] | None,
    measure: Callable[..., Measured],
) -> Measured | None:
    """The ``main`` of a wrk benchmark: its load arguments (rounds, seconds,
    connections, threads) from the command line, then ``measure``; None, said on
    stderr, when it fails. SIGTERM unwinds it, so the servers it started stop."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0, help="wrk duration of one run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        return measure(
            args.rounds, args.seconds, connections=args.connections, threads=args.threads
        )
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return None


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    del frame
    # As an exception, so the ExitStacks of measure() stop the servers.
    raise SystemExit(128 + signum)
