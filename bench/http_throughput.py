"""HTTP throughput: authenticated ``GET /v2/user`` on tokend against its ceiling and knox.

Three servers, two workers each, on loopback: ``tokend serve`` on SQLite, the same
stack answering a constant JSON without auth (bench/ceiling.py), and the Python peer,
django-rest-knox on gunicorn (bench/knox_peer.py). wrk loads one at a time, in
interleaved rounds whose order rotates, so that the machine's drift (this box is
shared) falls on every target alike; the figures are per-target medians.

    .venv/bin/python -m bench.http_throughput --rounds 3 --seconds 3
"""

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import knox_peer
from bench.report import Row
from bench.servers import HOST, BenchError, Target, free_port, progress, running, wait_ready
from bench.wrk import LoadSettings, WrkResult, measure_from_command_line, require_wrk, run_wrk

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
TARGETS = ("tokend", "ceiling", "knox")
WARMUP_S = 2

Started = tuple[Target, subprocess.Popen[bytes]]
Starter = Callable[[contextlib.ExitStack, Path], Started]


@dataclass(frozen=True)
class HttpResult:
    """Median req/s per target, the rounds they come from, and how they were measured."""

    tokend_rps: float
    ceiling_rps: float
    knox_rps: float
    # Target name -> req/s of each round, in round order.
    per_round: dict[str, tuple[float, ...]]
    load: LoadSettings
    knox_packages: tuple[str, ...] = field(default_factory=tuple)

    @property
    def tokend_vs_ceiling(self) -> float:
        return self.tokend_rps / self.ceiling_rps

    @property
    def tokend_vs_knox(self) -> float:
        return self.tokend_rps / self.knox_rps


def measure(
    rounds: int = 5, seconds: float = 5.0, *, connections: int = 32, threads: int = 1
) -> HttpResult:
    """Start the three servers, load them in interleaved rounds, stop them, report medians."""
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    require_wrk()  # before the slow set-up, so a missing wrk is said at once
    knox_peer.ensure_venv()
    load = LoadSettings(threads=threads, connections=connections, seconds=max(1, round(seconds)))
    with contextlib.ExitStack() as stack:
        # Entered first, so removed last: after every server using it has stopped.
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tokend-bench-")))
        targets = start_all(stack, workdir)
        for target in targets:
            progress(f"warming up {target.name} ({WARMUP_S} s)")
            run_wrk(target, LoadSettings(threads, connections, WARMUP_S))
        per_round = run_rounds(targets, rounds, load)
        progress("stopping servers")
    medians = {name: statistics.median(values) for name, values in per_round.items()}
    return HttpResult(
        tokend_rps=medians["tokend"],
        ceiling_rps=medians["ceiling"],
        knox_rps=medians["knox"],
        per_round=per_round,
        load=load,
        knox_packages=tuple(knox_peer.pinned_packages()),
    )


def start_all(stack: contextlib.ExitStack, workdir: Path) -> list[Target]:
    starters: dict[str, Starter] = {
        "tokend": start_tokend,
        "ceiling": start_ceiling,
        "knox": start_knox,
    }
    # All three boot together (their start-up is mostly imports), then each must
    # answer a real user JSON before any load is sent.
    started = [starters[name](stack, workdir) for name in TARGETS]
    for target, process in started:
        wait_ready(target, process)
        progress(f"{target.name} ready at {target.url}")
    return [target for target, _process in started]


def start_tokend(stack: contextlib.ExitStack, workdir: Path) -> Started:
    env = tokend_environment(workdir / "tokend.db")
    token = create_tokend_user(env, workdir)
    port = free_port()
    command = [sys.executable, "-m", "tokend", "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(WORKERS)]
    target = bearer_target("tokend", port, token, workdir)
    progress(f"starting tokend serve on port {port}")
    # cwd is the temp dir: tokend reads a .env from its working directory, and one
    # left in the repository must not change what is measured.
    process = stack.enter_context(running(command, log=target.log, env=env, cwd=workdir))
    return target, process


def tokend_environment(database: Path) -> dict[str, str]:
    # Only the database is set: any TOKEND_* of the caller (log level, workers)
    # would make this tokend differ from the default one being benchmarked.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKEND_")}
    env["TOKEND_DATABASE_URL"] = f"sqlite:///{database}"
    return env


def create_tokend_user(env: dict[str, str], workdir: Path) -> str:
    progress("creating the tokend user and token")
    command = [sys.executable, "-m", "tokend", "admin", "create-user", "bench"]
    command += ["--email", "bench@example.com", "--format", "json"]
    finished = subprocess.run(command, env=env, cwd=workdir, capture_output=True, text=True)
    if finished.returncode != 0:
        raise BenchError(f"tokend admin create-user failed:\n{finished.stderr}")
    token: str = json.loads(finished.stdout)["bearerToken"]
    return token


def start_ceiling(stack: contextlib.ExitStack, workdir: Path) -> Started:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.ceiling:app", "--host", HOST]
    command += ["--port", str(port), "--workers", str(WORKERS)]
    # What tokend serve passes uvicorn (see bench/ceiling.py).
    command += ["--http", "httptools", "--no-server-header", "--log-level", "info"]
    target = Target("ceiling", f"http://{HOST}:{port}/v2/user", {}, workdir / "ceiling.log")
    progress(f"starting ceiling (uvicorn bench.ceiling:app) on port {port}")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    process = stack.enter_context(running(command, log=target.log, env=env, cwd=REPO_ROOT))
    return target, process


def start_knox(stack: contextlib.ExitStack, workdir: Path) -> Started:
    database = workdir / "knox.db"
    token = knox_peer.prepare_database(database)
    port = free_port()
    target = bearer_target("knox", port, token, workdir)
    progress(f"starting knox (gunicorn, {knox_peer.WORKER_CLASS} workers) on {port}")
    env = knox_peer.environment(database)
    command = knox_peer.gunicorn_command(port)
    process = stack.enter_context(running(command, log=target.log, env=env, cwd=workdir))
    return target, process


def bearer_target(name: str, port: int, token: str, workdir: Path) -> Target:
    headers = {"Authorization": f"Bearer {token}"}
    return Target(name, f"http://{HOST}:{port}/v2/user", headers, workdir / f"{name}.log")


def run_rounds(
    targets: Sequence[Target], rounds: int, load: LoadSettings
) -> dict[str, tuple[float, ...]]:
    results: dict[str, list[float]] = {target.name: [] for target in targets}
    for index in range(rounds):
        for target in rotated(targets, index):
            outcome = run_wrk(target, load)
            results[target.name].append(outcome.requests_per_s)
            progress(f"round {index + 1}/{rounds} {target.name}: {describe(outcome)}")
    return {name: tuple(values) for name, values in results.items()}


def rotated(targets: Sequence[Target], index: int) -> list[Target]:
    # Each target takes each slot in turn, so none is always the one loaded right
    # after another has heated the CPU (or always first, on a cold one).
    shift = index % len(targets)
    return [*targets[shift:], *targets[:shift]]


def describe(outcome: WrkResult) -> str:
    return f"{outcome.requests_per_s:,.0f} req/s ({outcome.requests:,} requests)"


def print_table(result: HttpResult) -> None:
    # Imported here: rich is in tokend's venv, and measure() itself does not need it.
    from rich.console import Console
    from rich.table import Table

    load = result.load
    table = Table(
        title=f"GET /v2/user, {WORKERS} workers each, "
        f"wrk -t{load.threads} -c{load.connections} -d{load.seconds}s"
    )
    table.add_column("target")
    table.add_column("median req/s", justify="right")
    table.add_column("rounds (req/s)", justify="right")
    for name, median in (
        ("tokend", result.tokend_rps),
        ("ceiling", result.ceiling_rps),
        ("knox", result.knox_rps),
    ):
        rounds = ", ".join(f"{value:,.0f}" for value in result.per_round[name])
        table.add_row(name, f"{median:,.0f}", rounds)
    table.add_section()
    table.add_row("tokend / ceiling", f"{result.tokend_vs_ceiling:.2f}", "")
    table.add_row("tokend / knox", f"{result.tokend_vs_knox:.2f}", "")
    console = Console()
    console.print(table)
    console.print(f"knox peer: {', '.join(result.knox_packages)}", highlight=False)


SECTION = "2. HTTP GET /v2/user"
GOAL_VS_CEILING = 0.8
GOAL_VS_KNOX = 10.0


def rows(result: HttpResult) -> list[Row]:
    load = result.load
    how = f"{WORKERS} workers each, wrk -t{load.threads} -c{load.connections} -d{load.seconds}s"
    return [
        Row(SECTION, f"tokend serve (SQLite), req/s, {how}", f"{result.tokend_rps:,.0f}"),
        Row(SECTION, "ceiling: FastAPI constant JSON, no auth, req/s",
            f"{result.ceiling_rps:,.0f}"),
        Row(SECTION, "django-rest-knox on gunicorn, req/s", f"{result.knox_rps:,.0f}"),
        Row(SECTION, "tokend / ceiling", f"{result.tokend_vs_ceiling:.2f}",
            f">= {GOAL_VS_CEILING}", result.tokend_vs_ceiling >= GOAL_VS_CEILING),
        Row(SECTION, "tokend / knox", f"{result.tokend_vs_knox:.1f}",
            f">= {GOAL_VS_KNOX:g}", result.tokend_vs_knox >= GOAL_VS_KNOX),
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    result = measure_from_command_line("python -m bench.http_throughput", __doc__, argv, measure)
    if result is None:
        return 1
    print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
