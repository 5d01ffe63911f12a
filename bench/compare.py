"""Before and after: rows 1 and 2 of the table for another revision of tokend, measured
side by side with this tree, for "the hot path is not slower" (each issue that touches
it quotes this).

The other revision's ``src/`` is exported with ``git archive`` into a temporary folder
and put first on ``PYTHONPATH``; both run on this venv's interpreter and packages.

1. hot verify: ``bench.hot_verify`` of each tree in alternating subprocesses; each
   gives the median of its rounds' tokend/floor ratios (the floor is measured in the
   same process, so the ratio carries over between runs), and the figure is after's
   median ratio over before's. Where valgrind is installed, also the instructions one
   cached verification costs in each tree (callgrind, ``bench.hot_calls`` run with N
   calls and with none, a fixed hash seed): a count, not a time, so the machine's
   noise does not reach it.
2. HTTP ``GET /v2/user``: a ``tokend serve`` of each tree (2 workers, SQLite) loaded by
   wrk in interleaved rounds whose order alternates; the figure is the median of the
   per-round ratios after/before.

    .venv/bin/python -m bench.compare --before 50df01d
"""

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.http_throughput import WARMUP_S, bearer_target, describe, tokend_environment
from bench.servers import HOST, BenchError, Target, free_port, progress, running, wait_ready
from bench.wrk import LoadSettings, require_wrk, run_wrk

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2


@dataclass(frozen=True)
class Comparison:
    before: str
    hot_before: tuple[float, ...]  # each run's median tokend/floor ratio
    hot_after: tuple[float, ...]
    http_before: tuple[float, ...]  # req/s of each round
    http_after: tuple[float, ...]
    instructions_before: float | None = None  # per cached verification
    instructions_after: float | None = None

    @property
    def hot_ratio(self) -> float:
        return statistics.median(self.hot_after) / statistics.median(self.hot_before)

    @property
    def http_ratio(self) -> float:
        """The median of the rounds' after/before ratios."""
        pairs = zip(self.http_after, self.http_before, strict=True)
        return statistics.median(after / before for after, before in pairs)


@contextlib.contextmanager
def exported(revision: str) -> Iterator[Path]:
    """The revision's ``src`` folder, in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="tokend-before-") as folder:
        archive = Path(folder) / "src.tar"
        subprocess.run(
            ["git", "archive", "--format=tar", f"--output={archive}", revision, "src"],
            cwd=REPO_ROOT,
            check=True,
        )
        with tarfile.open(archive) as tar:
            tar.extractall(folder, filter="data")
        yield Path(folder) / "src"


def environment(src: Path | None) -> dict[str, str]:
    """The environment that runs ``src``'s tokend (None: this tree's, as installed)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # The benchmark package always comes from this tree; tokend from ``src``.
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (src, REPO_ROOT) if p is not None)
    return env


def hot_ratio(src: Path | None, rounds: int) -> float:
    done = subprocess.run(
        [sys.executable, "-m", "bench.hot_verify", "--rounds", str(rounds), "--json"],
        env=environment(src), cwd=REPO_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise BenchError(f"bench.hot_verify failed:\n{done.stderr[-2000:]}")
    ratio: float = json.loads(done.stdout)["ratio"]
    return ratio


INSTRUCTION_CALLS = 50_000


def instructions_per_call(src: Path | None) -> float | None:
    """What one cached verification costs, in instructions; None without valgrind."""
    if shutil.which("valgrind") is None:
        return None
    counts = []
    for calls in (0, INSTRUCTION_CALLS):
        env = {**environment(src), "PYTHONHASHSEED": "0"}
        with tempfile.TemporaryDirectory(prefix="tokend-callgrind-") as folder:
            done = subprocess.run(
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/out",
                 sys.executable, "-m", "bench.hot_calls", str(calls)],
                env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=False,
            )  # fmt: skip
        found = re.search(r"Collected : (\d+)", done.stderr)
        if done.returncode != 0 or found is None:
            raise BenchError(f"callgrind failed:\n{done.stderr[-2000:]}")
        counts.append(int(found.group(1)))
    return (counts[1] - counts[0]) / INSTRUCTION_CALLS


def start_server(stack: contextlib.ExitStack, name: str, src: Path | None, workdir: Path) -> Target:
    folder = workdir / name
    folder.mkdir()
    env = {**tokend_environment(folder / "tokend.db"), **environment(src)}
    made = subprocess.run(
        [sys.executable, "-m", "tokend", "admin", "create-user", "bench", "--format", "json"],
        env=env, cwd=folder, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        raise BenchError(f"{name}: tokend admin create-user failed:\n{made.stderr}")
    port = free_port()
    target = bearer_target(name, port, json.loads(made.stdout)["bearerToken"], folder)
    command = [sys.executable, "-m", "tokend", "serve", "--host", HOST, "--port", str(port),
               "--workers", str(WORKERS)]  # fmt: skip
    process = stack.enter_context(running(command, log=target.log, env=env, cwd=folder))
    wait_ready(target, process)
    progress(f"{name} ready at {target.url}")
    return target


def measure(
    before: str, *, hot_runs: int, hot_rounds: int, rounds: int, seconds: int
) -> Comparison:
    require_wrk()
    with exported(before) as src:
        progress("instructions per cached verification (callgrind), before and after")
        instructions = (instructions_per_call(src), instructions_per_call(None))
        hot_before, hot_after = [], []
        for run in range(hot_runs):
            progress(f"hot verify, run {run + 1}/{hot_runs}: before, then after")
            hot_before.append(hot_ratio(src, hot_rounds))
            hot_after.append(hot_ratio(None, hot_rounds))
        with contextlib.ExitStack() as stack:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tokend-ab-")))
            targets = {
                "before": start_server(stack, "before", src, workdir),
                "after": start_server(stack, "after", None, workdir),
            }
            load = LoadSettings(seconds=seconds)
            for target in targets.values():
                run_wrk(target, LoadSettings(load.threads, load.connections, WARMUP_S))
            results: dict[str, list[float]] = {"before": [], "after": []}
            for index in range(rounds):
                order = ("before", "after") if index % 2 == 0 else ("after", "before")
                for name in order:
                    outcome = run_wrk(targets[name], load)
                    results[name].append(outcome.requests_per_s)
                    progress(f"round {index + 1}/{rounds} {name}: {describe(outcome)}")
    return Comparison(
        before, tuple(hot_before), tuple(hot_after),
        tuple(results["before"]), tuple(results["after"]), *instructions,
    )  # fmt: skip


def report(result: Comparison) -> str:
    hot_pairs = zip(result.hot_before, result.hot_after, strict=True)
    http_pairs = zip(result.http_before, result.http_after, strict=True)
    hot = ", ".join(f"{b:.2f}/{a:.2f}" for b, a in hot_pairs)
    http = ", ".join(f"{b:,.0f}/{a:,.0f}" for b, a in http_pairs)
    counted = ""
    if result.instructions_before and result.instructions_after:
        counted = (
            f"\n   instructions per cached verification: {result.instructions_before:,.0f} / "
            f"{result.instructions_after:,.0f}: after/before "
            f"{result.instructions_after / result.instructions_before:.3f}"
        )
    return "\n".join(
        (
            f"before = {result.before}, after = this tree",
            f"1. hot verify, tokend/floor per run (before/after): {hot}",
            f"   medians {statistics.median(result.hot_before):.2f} / "
            f"{statistics.median(result.hot_after):.2f}: after/before {result.hot_ratio:.2f}"
            + counted,
            f"2. GET /v2/user req/s per round (before/after): {http}",
            f"   medians {statistics.median(result.http_before):,.0f} / "
            f"{statistics.median(result.http_after):,.0f}: after/before (median of rounds) "
            f"{result.http_ratio:.2f}",
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("--before", required=True, help="a git revision: the code before")
    parser.add_argument("--hot-runs", type=int, default=5)
    parser.add_argument("--hot-rounds", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        result = measure(
            args.before, hot_runs=args.hot_runs, hot_rounds=args.hot_rounds,
            rounds=args.rounds, seconds=args.seconds,
        )  # fmt: skip
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
