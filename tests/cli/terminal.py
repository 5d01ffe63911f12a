"""A `tokend` process at a terminal: a pseudo-terminal is its controlling terminal,
stdin, stdout and stderr, as when a person types the command. For what the CLI
does differently there (the web login by default, hidden prompts)."""

import os
import pty
import re
import select
import sys
import time
from types import TracebackType


class Terminal:
    def __init__(self, *args: str, env: dict[str, str]) -> None:
        # Plain output: no colours or cursor movement to read past.
        env = {**env, "TERM": "dumb", "NO_COLOR": "1", "COLUMNS": "200"}
        pid, fd = pty.fork()  # the child: a new session, the pty its controlling terminal
        if pid == 0:  # pragma: no cover - the child
            try:
                os.execve(sys.executable, [sys.executable, "-m", "tokend", *args], env)  # noqa: S606
            finally:
                os._exit(127)
        self.pid = pid
        self.fd = fd
        self.output = ""  # everything shown so far, \r\n as the terminal sends it
        self.status: int | None = None

    def expect(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        """Read until ``pattern`` appears in the output; its match."""
        deadline = time.monotonic() + timeout
        while not (found := re.search(pattern, self.output)):
            left = deadline - time.monotonic()
            assert left > 0, f"{pattern!r} not shown; the terminal shows:\n{self.output}"
            if not self._read(left):
                raise AssertionError(f"{pattern!r} not shown before exit:\n{self.output}")
        return found

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait(self, timeout: float = 30) -> int:
        """Read to the end; the exit status."""
        deadline = time.monotonic() + timeout
        while self._read(max(0.0, deadline - time.monotonic())):
            assert time.monotonic() < deadline, f"still running:\n{self.output}"
        _, status = os.waitpid(self.pid, 0)
        self.status = os.waitstatus_to_exitcode(status)
        return self.status

    def _read(self, timeout: float) -> bool:
        """Read what is there within ``timeout``; False at the end of the output."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the child has closed the terminal
            return False
        if not chunk:
            return False
        self.output += chunk.decode(errors="replace")
        return True

    def __enter__(self) -> "Terminal":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(self.fd)
