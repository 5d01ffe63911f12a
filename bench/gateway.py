"""The gateway endpoints against ``GET /v2/user``: ``GET /v1/auth/check`` and
``POST /v1/introspect``, each as fast as a cached ``GET /v2/user`` should be.

One ``tokend serve`` (SQLite, two workers) answers all three; wrk loads one endpoint
at a time, in interleaved rounds whose order rotates, so that the machine's drift
falls on every endpoint alike. Every request carries a token the server has cached
(introspection: a service token asking about the user's token), which is what a
gateway or resource server sends all day. The figure of each row is the median of
the per-round ratios to ``GET /v2/user`` of the same round.

Beside req/s, the server's own CPU time per request (its master and workers, from
/proc, over each wrk run): on a machine shared with other work, req/s moves with the
load while the CPU one request costs the server moves much less.

    .venv/bin/python -m bench.gateway --rounds 5 --seconds 5
"""

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.http_throughput import (
    WARMUP_S,
    create_tokend_user,
    describe,
    rotated,
    tokend_environment,
)
from bench.report import Row
from bench.servers import HOST, BenchError, Target, free_port, progress, running, wait_ready
from bench.wrk import LoadSettings, measure_from_command_line, require_wrk, run_wrk

WORKERS = 2
USER, CHECK, INTROSPECT = "GET /v2/user", "GET /v1/auth/check", "POST /v1/introspect"
GOALS = {CHECK: 0.9, INTROSPECT: 0.7}

# wrk sends a GET unless a script says otherwise.
_POST_FORM = """wrk.method = "POST"
wrk.body = "token={token}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
"""


@dataclass(frozen=True)
class GatewayResult:
    # Endpoint -> req/s of each round, in round order.
    per_round: dict[str, tuple[float, ...]]
    load: LoadSettings
    # Endpoint -> the server's CPU microseconds per request of each round.
    cpu_per_round: dict[str, tuple[float, ...]]

    def median(self, endpoint: str) -> float:
        return statistics.median(self.per_round[endpoint])

    def ratio(self, endpoint: str) -> float:
        """The median over rounds of endpoint / GET /v2/user in the same round."""
        pairs = zip(self.per_round[endpoint], self.per_round[USER], strict=True)
        return statistics.median(mine / user for mine, user in pairs)

    def cpu_us(self, endpoint: str) -> float:
        return statistics.median(self.cpu_per_round[endpoint])

    def cpu_ratio(self, endpoint: str) -> float:
        """GET /v2/user's CPU per request over the endpoint's: as a throughput ratio,
        what the endpoint would reach on cores of its own."""
        return self.cpu_us(USER) / self.cpu_us(endpoint)


def measure(
    rounds: int = 5, seconds: float = 5.0, *, connections: int = 32, threads: int = 1
) -> GatewayResult:
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    require_wrk()
    load = LoadSettings(threads=threads, connections=connections, seconds=max(1, round(seconds)))
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tokend-gw-")))
        targets, server = start(stack, workdir)
        for target in targets:
            progress(f"warming up {target.name} ({WARMUP_S} s)")
            run_wrk(target, LoadSettings(threads, connections, WARMUP_S))
        results: dict[str, list[float]] = {target.name: [] for target in targets}
        cpu: dict[str, list[float]] = {target.name: [] for target in targets}
        for index in range(rounds):
            for target in rotated(targets, index):
                before = cpu_seconds(server)
                outcome = run_wrk(target, load)
                spent = cpu_seconds(server) - before
                results[target.name].append(outcome.requests_per_s)
                cpu[target.name].append(spent / outcome.requests * 1e6)
                progress(
                    f"round {index + 1}/{rounds} {target.name}: {describe(outcome)}, "
                    f"{cpu[target.name][-1]:.0f} µs CPU a request"
                )
        progress("stopping tokend")
    return GatewayResult(
        {name: tuple(values) for name, values in results.items()},
        load,
        {name: tuple(values) for name, values in cpu.items()},
    )


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and all its descendants alive now (a server's
    workers live as long as it does), from /proc."""
    total, pending = 0.0, [pid]
    ticks = os.sysconf("SC_CLK_TCK")
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            # utime and stime are fields 14 and 15, counted after "(command)".
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(child) for child in children)
    return total


def start(stack: contextlib.ExitStack, workdir: Path) -> tuple[list[Target], int]:
    env = tokend_environment(workdir / "tokend.db")
    token = create_tokend_user(env, workdir)
    service = create_service(env, workdir)
    port = free_port()
    base = f"http://{HOST}:{port}"
    log = workdir / "tokend.log"
    bearer = {"Authorization": f"Bearer {token}"}
    script = workdir / "introspect.lua"
    script.write_text(_POST_FORM.format(token=token))
    targets = [
        Target(USER, f"{base}/v2/user", bearer, log),
        Target(CHECK, f"{base}/v1/auth/check", bearer, log),
        Target(INTROSPECT, f"{base}/v1/introspect", {"Authorization": f"Bearer {service}"},
               log, script=script),
    ]  # fmt: skip
    command = [sys.executable, "-m", "tokend", "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(WORKERS)]
    progress(f"starting tokend serve on port {port}")
    process = stack.enter_context(running(command, log=log, env=env, cwd=workdir))
    wait_ready(targets[0], process)
    check_answers(targets, token)
    return targets, process.pid


def create_service(env: dict[str, str], workdir: Path) -> str:
    command = [sys.executable, "-m", "tokend", "admin", "create-service", "bench-rs"]
    command += ["--format", "json"]
    finished = subprocess.run(command, env=env, cwd=workdir, capture_output=True, text=True)
    if finished.returncode != 0:
        raise BenchError(f"tokend admin create-service failed:\n{finished.stderr}")
    secret: str = json.loads(finished.stdout)["bearerToken"]
    return secret


def check_answers(targets: Sequence[Target], token: str) -> None:
    """Each endpoint answers what is being measured (a live token, not a refusal
    that wrk would count as fast 4xx)."""
    import httpx  # in tokend's venv; only needed once the servers run

    by_name = {target.name: target for target in targets}
    check = httpx.get(by_name[CHECK].url, headers=dict(by_name[CHECK].headers), trust_env=False)
    if check.status_code != 200 or "x-tokend-user-id" not in check.headers:
        raise BenchError(f"the check answered {check.status_code} {check.text!r}")
    rs = by_name[INTROSPECT]
    answer = httpx.post(rs.url, headers=dict(rs.headers), data={"token": token}, trust_env=False)
    if answer.status_code != 200 or answer.json().get("active") is not True:
        raise BenchError(f"introspection answered {answer.status_code} {answer.text!r}")


SECTION = "7. gateway endpoints"


def rows(result: GatewayResult) -> list[Row]:
    load = result.load
    how = f"{WORKERS} workers, wrk -t{load.threads} -c{load.connections} -d{load.seconds}s"
    table = [
        Row(SECTION, f"{USER} (SQLite, cached token), req/s, {how}", f"{result.median(USER):,.0f}")
    ]
    table.append(Row(SECTION, f"{USER}, server CPU a request", f"{result.cpu_us(USER):.0f} µs"))
    for endpoint, goal in GOALS.items():
        ratio = result.ratio(endpoint)
        table.append(Row(SECTION, f"{endpoint}, req/s", f"{result.median(endpoint):,.0f}"))
        table.append(
            Row(SECTION, f"{endpoint} / {USER} (median of per-round ratios)", f"{ratio:.2f}",
                f">= {goal}", ratio >= goal)
        )  # fmt: skip
        table.append(
            Row(SECTION, f"{endpoint}, server CPU a request ({USER}'s over it)",
                f"{result.cpu_us(endpoint):.0f} µs ({result.cpu_ratio(endpoint):.2f})")
        )  # fmt: skip
    return table


def print_rounds(result: GatewayResult) -> None:
    from bench.report import print_table

    print_table(rows(result), "tokend: the gateway endpoints against GET /v2/user")
    for name, values in result.per_round.items():
        cpu = ", ".join(f"{value:.0f}" for value in result.cpu_per_round[name])
        rates = ", ".join(f"{value:,.0f}" for value in values)
        print(f"{name}: {rates} req/s; {cpu} µs CPU a request")


def main(argv: Sequence[str] | None = None) -> int:
    result = measure_from_command_line("python -m bench.gateway", __doc__, argv, measure)
    if result is None:
        return 1
    print_rounds(result)
    return 0 if all(row.met is not False for row in rows(result)) else 2


if __name__ == "__main__":
    sys.exit(main())
