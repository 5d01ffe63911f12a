"""A real nginx running the shipped configuration, and an upstream that echoes what
it receives, for the deploy/ tests.

The configuration under test is deploy/nginx/tokend.conf with only its addresses
(tokend's nodes, the application, the listening port) substituted; the few lines
around it (pid, logs, temp paths in the test's own folder) are what Debian's
/etc/nginx/nginx.conf would otherwise give it.
"""

import contextlib
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.support import IN_CI, free_port

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "nginx" / "tokend.conf"
NGINX = os.environ.get("TOKEND_TEST_NGINX", "/usr/sbin/nginx")
# The addresses deploy/compose.yaml gives its services, as the shipped file names them.
SHIPPED_TOKEND = ("172.28.0.11:8000", "172.28.0.12:8000")
SHIPPED_APP = "172.28.0.20:8080"
SHIPPED_LISTEN = "listen 8080;"


def require_nginx() -> str:
    """nginx's path; without it the test skips, or fails under CI=true."""
    if not os.access(NGINX, os.X_OK):
        message = f"nginx is not installed at {NGINX} (Debian: apt-get install nginx-light)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return NGINX


def render(tokend: Sequence[str], app: str, port: int, text: str | None = None) -> str:
    """The shipped configuration with its addresses replaced, and nothing else."""
    text = SHIPPED.read_text() if text is None else text
    # Each address must be there exactly once: a test must not pass because the
    # configuration it meant to change had moved on.
    for old, new in [(SHIPPED_LISTEN, f"listen 127.0.0.1:{port};"),
                     *zip(SHIPPED_TOKEND, tokend, strict=True),
                     (SHIPPED_APP, app)]:  # fmt: skip
        assert text.count(old) == 1, f"{old!r} is not in {SHIPPED} exactly once"
        text = text.replace(old, new)
    return text


def main_config(prefix: Path, include: Path) -> str:
    """The main context around an http-context file, everything inside ``prefix``."""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} info;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix / "access.log"};
{temp}
    include {include};
}}
"""


def write_config(prefix: Path, http_context: str) -> Path:
    prefix.mkdir(parents=True, exist_ok=True)
    include = prefix / "tokend.conf"
    include.write_text(http_context)
    config = prefix / "nginx.conf"
    config.write_text(main_config(prefix, include))
    return config


def check_config(config: Path) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on a configuration."""
    prefix = config.parent
    return subprocess.run(
        [require_nginx(), "-t", "-p", str(prefix), "-c", str(config)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


@dataclass
class Nginx:
    """nginx with the shipped configuration in front of tokend ``nodes`` and ``app``."""

    prefix: Path
    nodes: Sequence[str]  # tokend base URLs
    app: str  # the upstream's base URL
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Nginx":
        addresses = [node.removeprefix("http://") for node in self.nodes]
        config = write_config(
            self.prefix, render(addresses, self.app.removeprefix("http://"), self.port)
        )
        with (self.prefix / "stderr.log").open("ab") as log:
            self.process = subprocess.Popen(
                [require_nginx(), "-p", str(self.prefix), "-c", str(config)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"nginx did not start: {self.log()}")

    def log(self) -> str:
        parts = []
        for name in ("stderr.log", "error.log"):
            with contextlib.suppress(OSError):
                parts.append((self.prefix / name).read_text(errors="replace"))
        return "\n".join(parts)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            # SIGTERM: nginx's fast shutdown; the group holds its worker too.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def __enter__(self) -> "Nginx":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


@dataclass(frozen=True)
class Seen:
    """One request as the upstream received it: headers in wire order and case."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def names(self) -> list[str]:
        return [key for key, _ in self.headers]


class EchoUpstream:
    """The application behind nginx: answers 200 with the request it received as
    JSON (or the status a ``/status/NNN`` path names, with the same body), and keeps
    every request so a test can tell it was never reached."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as nginx's upstream keepalive uses

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path, tuple(self.headers.items()), body)
                upstream.seen.append(seen)
                answer = json.dumps(
                    {"method": seen.method, "path": seen.path, "headers": seen.headers,
                     "body": body.decode("latin-1")}
                ).encode()  # fmt: skip
                status = 200
                if self.path.startswith("/status/"):
                    status = int(self.path.split("/")[2])
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def do_PUT(self) -> None:
                self._answer()

            def do_DELETE(self) -> None:
                self._answer()

            def do_PATCH(self) -> None:
                self._answer()

            def log_message(self, format: str, *args: object) -> None:
                del format, args  # quiet: pytest shows failures, not access lines

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "EchoUpstream":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


TOKEND_HEADER = re.compile(r"^x[-_]tokend[-_]", re.IGNORECASE)


def tokend_headers(seen: Seen) -> dict[str, list[str]]:
    """Every header of the X-Tokend family the upstream received (any case, dashes or
    underscores), by lower-case name, each with all its values."""
    found: dict[str, list[str]] = {}
    for name, value in seen.headers:
        if TOKEND_HEADER.match(name):
            found.setdefault(name.lower(), []).append(value)
    return found
