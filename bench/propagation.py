"""Revocation propagation: two ``tokend serve`` nodes on one PostgreSQL database.

One trial: make a token through node A, use it twice on node B (so B has it cached),
revoke it through A with ``DELETE /v3/user/tokens/current``, and from A's answer on
poll B back to back until B answers 401. Propagation is the time from A's answer to
B's 401 arriving (an upper bound: it includes B's own round trip); a trial that has not seen the 401
after 5 s is a failure and counted as 5 s.

    .venv/bin/python -m bench.propagation --trials 100
"""

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.cold_verify import ms, percentile, postgres_database, stop_on_sigterm
from bench.report import Row, print_table
from bench.servers import HOST, BenchError, Target, free_port, progress, running, wait_ready

TRIALS = 100
GIVE_UP_NS = 5_000_000_000
GOAL_P99_MS = 1_000.0
SECTION = "5. revocation propagation"


@dataclass(frozen=True)
class PropagationResult:
    propagation_ns: tuple[int, ...]  # one per trial; a failure counts as GIVE_UP_NS
    failures: int
    immediate: int  # trials whose very first poll of B was already 401
    polls: int  # requests B answered 200 after the revocation, all trials together


@dataclass(frozen=True)
class Trial:
    propagation_ns: int
    polls_200: int
    failed: bool


def measure(trials: int = TRIALS) -> PropagationResult:
    if trials < 1:
        raise ValueError("trials must be at least 1")
    with contextlib.ExitStack() as stack:
        # Entered before the nodes, so removed after both have stopped.
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tokend-bench-")))
        env = node_environment(stack.enter_context(postgres_database()))
        user_token = prepare_database(env, workdir)
        node_a, node_b = start_nodes(stack, env, workdir, user_token)
        outcomes = run_trials(node_a, node_b, trials)
        progress("stopping both nodes")
    return PropagationResult(
        propagation_ns=tuple(trial.propagation_ns for trial in outcomes),
        failures=sum(trial.failed for trial in outcomes),
        immediate=sum(trial.polls_200 == 0 for trial in outcomes),
        polls=sum(trial.polls_200 for trial in outcomes),
    )


def node_environment(database_url: str) -> dict[str, str]:
    # Only the database (and, below, the failure limit) is set: a caller's TOKEND_*
    # (cache size, workers) would make these nodes differ from the default ones.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKEND_")}
    env["TOKEND_DATABASE_URL"] = database_url
    # Every trial's polls of its revoked token are failed authentications: under the
    # default limit (30 a minute per address) they would turn into 429s by trial 31,
    # and this measures the revocation feed, not the failure limit.
    env["TOKEND_RATE_LIMIT_FAILURES"] = "0"
    return env


def prepare_database(env: dict[str, str], workdir: Path) -> str:
    """Migrate with the CLI and make the user; return the user's bearer token."""
    progress("migrating the database (tokend db upgrade)")
    tokend_cli(["db", "upgrade"], env, workdir)
    progress("creating the user (tokend admin create-user)")
    created = tokend_cli(["admin", "create-user", "bench", "--format", "json"], env, workdir)
    token: str = json.loads(created)["bearerToken"]
    return token


def tokend_cli(args: list[str], env: dict[str, str], workdir: Path) -> str:
    command = [sys.executable, "-m", "tokend", *args]
    # cwd is the temp dir: tokend reads a .env from its working directory.
    finished = subprocess.run(
        command, env=env, cwd=workdir, capture_output=True, text=True, timeout=120, check=False
    )
    if finished.returncode != 0:
        raise BenchError(f"tokend {' '.join(args)} failed:\n{finished.stderr}")
    return finished.stdout


def start_nodes(
    stack: contextlib.ExitStack, env: dict[str, str], workdir: Path, user_token: str
) -> tuple[Target, Target]:
    started = []
    # Both boot together (start-up is mostly imports), then each must answer a user.
    for name in ("node-a", "node-b"):
        port = free_port()
        command = [sys.executable, "-m", "tokend", "serve", "--host", HOST]
        command += ["--port", str(port), "--workers", "1"]
        headers = {"Authorization": f"Bearer {user_token}"}
        target = Target(name, f"http://{HOST}:{port}", headers, workdir / f"{name}.log")
        progress(f"starting {name} (tokend serve) on port {port}")
        process = stack.enter_context(running(command, log=target.log, env=env, cwd=workdir))
        started.append((target, process))
    for target, process in started:
        wait_ready(user_endpoint(target), process)
        progress(f"{target.name} ready at {target.url}")
    return started[0][0], started[1][0]


def user_endpoint(target: Target) -> Target:
    return Target(target.name, f"{target.url}/v2/user", target.headers, target.log)


def run_trials(node_a: Target, node_b: Target, trials: int) -> list[Trial]:
    outcomes: list[Trial] = []
    # One keep-alive connection per node: a new TCP handshake per poll would be
    # timed as if it were propagation. Both carry the user's token; a trial's own
    # token replaces it on the requests that use it.
    with client(node_a) as client_a, client(node_b) as client_b:
        for index in range(1, trials + 1):
            outcome = run_trial(client_a, client_b, index)
            outcomes.append(outcome)
            if index % 10 == 0 or outcome.failed:
                status = "FAILED (5 s)" if outcome.failed else ms(outcome.propagation_ns)
                progress(f"trial {index}/{trials}: {status}, {outcome.polls_200} polls saw 200")
    return outcomes


def client(target: Target) -> httpx.Client:
    # trust_env=False: a proxy from the environment must not sit on loopback traffic.
    timeout = GIVE_UP_NS / 1e9
    return httpx.Client(
        base_url=target.url, headers=dict(target.headers), timeout=timeout, trust_env=False
    )


def run_trial(client_a: httpx.Client, client_b: httpx.Client, index: int) -> Trial:
    created = expect(client_a.post("/v3/user/tokens", json={"name": f"t{index}"}), 200, "A")
    token = {"Authorization": f"Bearer {created['bearerToken']}"}
    for _ in range(2):  # the first use loads it into B's cache, the second is a hit
        expect(client_b.get("/v2/user", headers=token), 200, "B before the revocation")
    revoked = client_a.delete("/v3/user/tokens/current", headers=token)
    t0 = time.perf_counter_ns()
    expect(revoked, 200, "A revoking")
    return poll_until_rejected(client_b, token, t0)


def poll_until_rejected(client_b: httpx.Client, token: dict[str, str], t0: int) -> Trial:
    polls_200 = 0
    while True:
        response = client_b.get("/v2/user", headers=token)
        t1 = time.perf_counter_ns()
        if response.status_code == 401:
            # Until B's 401 arrived: an upper bound, B's own round trip included.
            return Trial(t1 - t0, polls_200, failed=False)
        expect(response, 200, "B after the revocation")
        polls_200 += 1
        if t1 - t0 >= GIVE_UP_NS:
            return Trial(GIVE_UP_NS, polls_200, failed=True)


def expect(response: httpx.Response, status: int, who: str) -> Any:
    if response.status_code != status:
        raise BenchError(
            f"{who}: {response.request.method} {response.request.url.path} answered "
            f"{response.status_code}, not {status}: {response.text[:200]}"
        )
    return response.json()


def rows(result: PropagationResult) -> list[Row]:
    values = result.propagation_ns
    p99 = percentile(values, 99)
    return [
        Row(SECTION, "trials / failures (> 5 s)", f"{len(values):,} / {result.failures:,}"),
        Row(SECTION, "B's first poll already 401", f"{result.immediate:,} trials"),
        Row(SECTION, "B polls answered 200 after A's 200", f"{result.polls:,} in all"),
        Row(SECTION, "p50", ms(percentile(values, 50))),
        Row(SECTION, "p99", ms(p99), f"<= {GOAL_P99_MS:g} ms", p99 <= GOAL_P99_MS * 1e6),
        Row(SECTION, "max", ms(max(values))),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.propagation", description=__doc__)
    parser.add_argument("--trials", type=int, default=TRIALS)
    args = parser.parse_args(argv)
    stop_on_sigterm()
    try:
        result = measure(args.trials)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print_table(rows(result), "Revocation propagation, two nodes on one PostgreSQL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
