"""`tokend serve` that cannot start says why in one line and exits 1, so that a person
reads the reason and a supervisor (systemd, Kubernetes) sees the failure."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.support import Server, children_of, eventually, free_port


class Served(NamedTuple):
    status: int
    lines: list[str]  # stderr


def serve(database: Path, *args: str, env: dict[str, str] | None = None) -> Served:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TOKEND_")}
    run_env = {**clean, "TOKEND_DATABASE_URL": f"sqlite:///{database}", **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "tokend", "serve", *args],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    return Served(result.returncode, result.stderr.strip().splitlines())


@pytest.fixture
def port_in_use() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("port", ["99999", "0", "-1", "65536"])
def test_a_port_out_of_range_is_refused_before_anything(tmp_path: Path, port: str) -> None:
    served = serve(tmp_path / "t.db", "--port", port)

    assert served.status == 1
    assert served.lines == [f"error: --port must be between 1 and 65535, not {port}"]
    assert not (tmp_path / "t.db").exists()  # refused before the database was touched


def test_a_port_setting_out_of_range_is_refused(tmp_path: Path) -> None:
    served = serve(tmp_path / "t.db", env={"TOKEND_PORT": "99999"})

    assert served.status == 1
    assert len(served.lines) == 1
    assert served.lines[0].startswith("error: invalid configuration: TOKEND_PORT: ")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_one_line(tmp_path: Path, port_in_use: int, workers: str) -> None:
    served = serve(tmp_path / "t.db", "--port", str(port_in_use), "--workers", workers)

    assert served.status == 1
    assert served.lines == [
        f"error: cannot listen on 127.0.0.1:{port_in_use}: address already in use"
    ]


def test_an_unknown_host_is_one_line(tmp_path: Path) -> None:
    served = serve(tmp_path / "t.db", "--host", "no-such-host.invalid", "--port", str(free_port()))

    assert served.status == 1
    assert len(served.lines) == 1
    assert served.lines[0].startswith("error: cannot listen on no-such-host.invalid:")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_workers_that_cannot_start_make_serve_fail(tmp_path: Path, workers: str) -> None:
    # A schema at the right revision but missing a table: the serve process's own check
    # passes, and every worker fails in its start-up (it reads token_revocations).
    database = tmp_path / "broken.db"
    env = {**os.environ, "TOKEND_DATABASE_URL": f"sqlite:///{database}"}
    subprocess.run([sys.executable, "-m", "tokend", "db", "upgrade"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    with sqlite3.connect(database) as db:
        db.execute("DROP TABLE token_revocations")

    served = serve(database, "--port", str(free_port()), "--workers", workers)

    assert served.status == 1, served.lines
    assert served.lines[-1].startswith("error: "), served.lines
    assert "could not start" in served.lines[-1]


def test_workers_stop_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    # kill -9 of `tokend serve` cannot reach its workers: each watches the supervisor
    # and stops, freeing the port, so the service can be started again.
    node = Server(
        database_url=f"sqlite:///{tmp_path / 'orphans.db'}",
        log_path=tmp_path / "serve.log",
        workers=2,
    )
    with node:
        assert node.process is not None
        supervisor = node.process.pid
        workers = children_of(supervisor)
        assert len(workers) >= 2
        os.kill(supervisor, signal.SIGKILL)
        node.process.wait()

        def gone() -> bool:
            return not any(Path(f"/proc/{pid}").exists() for pid in workers)

        assert eventually(gone, seconds=30), node.log_path.read_text()
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", node.port)) != 0  # nobody listens
