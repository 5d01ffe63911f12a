"""Server processes for the benchmarks: free ports, start, readiness, clean stop."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"
STOP_GRACE_S = 10.0


class BenchError(RuntimeError):
    """A benchmark target misbehaved; the run must not produce figures."""


@dataclass(frozen=True)
class Target:
    """One server under load: where to send the request, with which headers (and,
    for anything but a GET, which wrk script)."""

    name: str
    url: str
    headers: Mapping[str, str]
    log: Path
    script: Path | None = None  # a wrk Lua script (a POST and its body, say)


def progress(message: str) -> None:
    # stderr: the first set-up takes a minute, and stdout is kept for the results.
    print(f"==> {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    # The kernel picks an unused port; closing before the server binds it leaves a
    # tiny race, acceptable on a machine where nothing else grabs loopback ports.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def running(
    command: Sequence[str], *, log: Path, env: Mapping[str, str], cwd: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server for the duration of the block; its whole process group goes after."""
    with log.open("ab") as out:
        # Output to a file, never a pipe nobody drains: access logs would fill a pipe
        # and stall the server mid-benchmark. Own session: one signal reaches the
        # master and all its workers, and nothing else.
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_GRACE_S)
    # Workers can outlive a master that died first: sweep the group regardless.
    _signal_group(process, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_GRACE_S)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # The group id is the master's pid (start_new_session), ours alone.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def wait_ready(
    target: Target, process: subprocess.Popen[bytes], timeout_s: float = 60.0
) -> dict[str, Any]:
    """Poll until the target answers 200 with a user JSON; return that JSON."""
    deadline = time.monotonic() + timeout_s
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(
                f"{target.name} exited with status {process.returncode} before it was ready"
                f"\n{log_tail(target.log)}"
            )
        try:
            return fetch_user(target)
        except httpx.TransportError as error:  # not listening yet
            last_error = str(error)
        time.sleep(0.2)
    raise BenchError(
        f"{target.name} not ready after {timeout_s:.0f} s: {last_error}\n{log_tail(target.log)}"
    )


def fetch_user(target: Target) -> dict[str, Any]:
    # A 401 or a redirect would otherwise be benchmarked as if it were the real work;
    # httpx follows no redirect unless told, so one shows up here as itself.
    response = httpx.get(target.url, headers=dict(target.headers), timeout=5.0, trust_env=False)
    body: Any = response.json() if response.status_code == 200 else response.text
    if (
        response.status_code != 200
        or not isinstance(body, dict)
        or "username" not in body.get("user", {})
    ):
        raise BenchError(f"{target.name} answered {response.status_code} {body!r}, not a user")
    return body


def log_tail(log: Path, lines: int = 20) -> str:
    try:
        text = log.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {log})"
    return "\n".join(f"  | {line}" for line in text[-lines:])
