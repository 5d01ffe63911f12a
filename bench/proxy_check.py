"""The price of tokend's check behind nginx: nginx running deploy/nginx/tokend.conf
(GET /v1/auth/check on tokend, then the upstream) against nginx going to the same
upstream directly, without the check.

One nginx runs both routes: the shipped configuration with only its addresses
substituted (as tests/deploy run it), plus two server blocks of this benchmark's own:
the direct route (a proxy to the same ``app`` upstream block, no auth_request) and
the upstream itself, a constant 200 answered by nginx, so that the difference between
the two routes is the check alone. tokend serve on SQLite, two workers (as row 2),
the same token on every request (a cached one, the common case). wrk --latency loads
the two routes, and tokend's check alone (without nginx, for where the price comes
from), in interleaved rounds; the figures are per-route medians.

    .venv/bin/python -m bench.proxy_check --rounds 3 --seconds 5
"""

import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.http_throughput import WORKERS, create_tokend_user, tokend_environment
from bench.report import Row, print_table
from bench.servers import HOST, BenchError, Target, free_port, log_tail, progress, running
from bench.wrk import LoadSettings, WrkResult, measure_from_command_line, require_wrk, run_wrk

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED = REPO_ROOT / "deploy" / "nginx" / "tokend.conf"
# What the shipped file names, as tests/deploy/proxy.py substitutes it.
SHIPPED_TOKEND = ("172.28.0.11:8000", "172.28.0.12:8000")
SHIPPED_APP = "172.28.0.20:8080"
SHIPPED_LISTEN = "listen 8080;"
NGINX = "/usr/sbin/nginx"
# The two routes through nginx, and tokend's check alone (where the price comes from).
ROUTES = ("checked", "direct", "tokend")
WARMUP_S = 2
SECTION = "8. nginx check"


@dataclass(frozen=True)
class ProxyResult:
    """Per route: median req/s and latency percentiles, and every round's outcome."""

    medians: dict[str, WrkResult]
    per_round: dict[str, tuple[WrkResult, ...]]
    load: LoadSettings

    def ratio(self, over: str) -> float:
        """checked / ``over`` in req/s: the median of the rounds' own ratios (each
        round's runs are seconds apart, so the machine's drift cancels better)."""
        pairs = zip(self.per_round["checked"], self.per_round[over], strict=True)
        return statistics.median(a.requests_per_s / b.requests_per_s for a, b in pairs)

    def added_ms(self, percentile: str, suffix: str = "") -> float:
        checked, direct = self.medians[f"checked{suffix}"], self.medians[f"direct{suffix}"]
        return float(getattr(checked, percentile) - getattr(direct, percentile))


def require_nginx() -> str:
    path = shutil.which("nginx") or NGINX
    if not Path(path).exists():
        raise BenchError("nginx is not installed; install it with: apt-get install -y nginx-light")
    return path


def nginx_config(prefix: Path, tokend_port: int, ports: dict[str, int]) -> Path:
    """The shipped file (addresses substituted) and the two blocks of this benchmark."""
    text = SHIPPED.read_text()
    tokend = f"{HOST}:{tokend_port}"
    for old, new in [(SHIPPED_LISTEN, f"listen {HOST}:{ports['checked']};"),
                     (SHIPPED_TOKEND[0], tokend), (SHIPPED_TOKEND[1], tokend),
                     (SHIPPED_APP, f"{HOST}:{ports['upstream']}")]:  # fmt: skip
        if text.count(old) != 1:
            raise BenchError(f"{old!r} is not in {SHIPPED} exactly once")
        text = text.replace(old, new)
    (prefix / "tokend.conf").write_text(text)
    temp = "\n".join(f"    {kind}_temp_path {prefix / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))  # fmt: skip
    config = prefix / "nginx.conf"
    config.write_text(f"""daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{temp}
    include {prefix / "tokend.conf"};
    # The same upstream, without the check.
    server {{
        listen {HOST}:{ports["direct"]};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
    # The upstream: a constant answer, so that it costs both routes the same little.
    server {{
        listen {HOST}:{ports["upstream"]};
        keepalive_requests 100000;
        location / {{
            return 200 "ok\\n";
        }}
    }}
}}
""")
    return config


def measure(
    rounds: int = 5, seconds: float = 5.0, *, connections: int = 32, threads: int = 1
) -> ProxyResult:
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    require_wrk()
    nginx = require_nginx()
    load = LoadSettings(threads=threads, connections=connections, seconds=max(1, round(seconds)))
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tokend-bench-")))
        targets = start(stack, workdir, nginx)
        for target in targets:
            progress(f"warming up {target.name} ({WARMUP_S} s)")
            run_wrk(target, LoadSettings(threads, connections, WARMUP_S))
        per_round = run_rounds(targets, rounds, load)
        progress("stopping nginx and tokend")
    medians = {
        name: WrkResult(
            statistics.median(each.requests_per_s for each in outcomes),
            sum(each.requests for each in outcomes),
            statistics.median(each.p50_ms or 0.0 for each in outcomes),
            statistics.median(each.p99_ms or 0.0 for each in outcomes),
        )
        for name, outcomes in per_round.items()
    }
    return ProxyResult(medians, per_round, load)


def start(stack: contextlib.ExitStack, workdir: Path, nginx: str) -> list[Target]:
    env = tokend_environment(workdir / "tokend.db")
    token = create_tokend_user(env, workdir)
    tokend_port = free_port()
    command = [sys.executable, "-m", "tokend", "serve", "--host", HOST, "--port", str(tokend_port)]
    command += ["--workers", str(WORKERS)]
    progress(f"starting tokend serve on port {tokend_port}")
    tokend = stack.enter_context(running(command, log=workdir / "tokend.log", env=env, cwd=workdir))
    ports = {name: free_port() for name in ("checked", "direct", "upstream")}
    prefix = workdir / "nginx"
    prefix.mkdir()
    config = nginx_config(prefix, tokend_port, ports)
    progress(f"starting nginx on ports {ports['checked']} (checked), {ports['direct']} (direct)")
    log = prefix / "stderr.log"
    stack.enter_context(
        running([nginx, "-p", str(prefix), "-c", str(config)], log=log, env={}, cwd=prefix)
    )
    headers = {"Authorization": f"Bearer {token}"}
    targets = [
        Target(name, f"http://{HOST}:{ports[name]}/orders", headers, prefix / "error.log")
        for name in ROUTES[:2]
    ]
    wait_until_checked(targets, tokend)
    alone = Target("tokend", f"http://{HOST}:{tokend_port}/v1/auth/check", headers,
                   workdir / "tokend.log")  # fmt: skip
    answer = httpx.get(alone.url, headers=headers, timeout=5, trust_env=False)
    if answer.status_code != 200 or "x-tokend-user-id" not in answer.headers:
        raise BenchError(f"tokend's check answered {answer.status_code}: {answer.text}")
    return [*targets, alone]


def wait_until_checked(targets: Sequence[Target], tokend: subprocess.Popen[bytes]) -> None:
    """Both routes answer the upstream's 200 with the token, and only the checked one
    refuses a request without it: otherwise the benchmark would measure no check."""
    checked, direct = targets
    deadline = time.monotonic() + 60
    while True:
        try:
            with httpx.Client(timeout=5, trust_env=False) as client:
                answers = [client.get(t.url, headers=dict(t.headers)) for t in targets]
                anonymous = [client.get(t.url) for t in targets]
            if all(a.status_code == 200 and a.text == "ok\n" for a in answers):
                break
        except httpx.TransportError:
            pass
        if tokend.poll() is not None:
            raise BenchError(f"tokend serve exited with status {tokend.returncode}")
        if time.monotonic() > deadline:
            raise BenchError(f"nginx or tokend not ready after 60 s:\n{log_tail(checked.log)}")
        time.sleep(0.2)
    if [a.status_code for a in anonymous] != [401, 200]:
        raise BenchError(f"no token: checked {anonymous[0].status_code}, direct "
                         f"{anonymous[1].status_code}; expected 401 and 200")  # fmt: skip
    progress(f"{checked.name} and {direct.name} routes ready")


def run_rounds(
    targets: Sequence[Target], rounds: int, load: LoadSettings
) -> dict[str, tuple[WrkResult, ...]]:
    """Each round loads every target at ``load``, then the two nginx routes over one
    connection (``NAME@1``): under load the latency is mostly queueing at the slower
    route's throughput; one connection at a time shows what one request pays."""
    single = LoadSettings(threads=1, connections=1, seconds=load.seconds)
    plan = [(target, load, target.name) for target in targets]
    plan += [(target, single, f"{target.name}@1") for target in targets[:2]]
    results: dict[str, list[WrkResult]] = {name: [] for _, _, name in plan}
    for index in range(rounds):
        # Each run takes each slot in turn (as bench.http_throughput.rotated does).
        shift = index % len(plan)
        for target, settings, name in [*plan[shift:], *plan[:shift]]:
            outcome = run_wrk(target, settings, latency=True)
            results[name].append(outcome)
            progress(f"round {index + 1}/{rounds} {name}: "
                     f"{outcome.requests_per_s:,.0f} req/s, p50 {outcome.p50_ms:.2f} ms, "
                     f"p99 {outcome.p99_ms:.2f} ms")  # fmt: skip
    return {name: tuple(values) for name, values in results.items()}


def rows(result: ProxyResult) -> list[Row]:
    load = result.load
    checked, direct = result.medians["checked"], result.medians["direct"]
    alone = result.medians
    how = f"tokend {WORKERS} workers, nginx 1, wrk -t{load.threads} -c{load.connections}"
    return [
        Row(SECTION, f"nginx -> tokend check -> upstream, req/s ({how})",
            f"{checked.requests_per_s:,.0f}"),
        Row(SECTION, "nginx -> upstream directly, req/s", f"{direct.requests_per_s:,.0f}"),
        Row(SECTION, "tokend GET /v1/auth/check alone (no nginx), req/s",
            f"{result.medians['tokend'].requests_per_s:,.0f}"),
        Row(SECTION, "checked / direct, req/s (median of the rounds' ratios)",
            f"{result.ratio('direct'):.2f}"),
        Row(SECTION, "checked / tokend alone, req/s (nginx's own share of the price)",
            f"{result.ratio('tokend'):.2f}"),
        Row(SECTION, f"latency p50 checked / direct, -c{load.connections}",
            f"{checked.p50_ms:.2f} / {direct.p50_ms:.2f} ms ({result.added_ms('p50_ms'):+.2f})"),
        Row(SECTION, f"latency p99 checked / direct, -c{load.connections}",
            f"{checked.p99_ms:.2f} / {direct.p99_ms:.2f} ms ({result.added_ms('p99_ms'):+.2f})"),
        Row(SECTION, "latency p50 checked / direct, one connection",
            f"{alone['checked@1'].p50_ms:.2f} / {alone['direct@1'].p50_ms:.2f} ms "
            f"({result.added_ms('p50_ms', '@1'):+.2f})"),
        Row(SECTION, "latency p99 checked / direct, one connection",
            f"{alone['checked@1'].p99_ms:.2f} / {alone['direct@1'].p99_ms:.2f} ms "
            f"({result.added_ms('p99_ms', '@1'):+.2f})"),
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    result = measure_from_command_line("python -m bench.proxy_check", __doc__, argv, measure)
    if result is None:
        return 1
    for name in result.per_round:
        rounds = "; ".join(
            f"{each.requests_per_s:,.0f} req/s p50 {each.p50_ms:.2f} p99 {each.p99_ms:.2f} ms"
            for each in result.per_round[name]
        )
        print(f"{name}: {rounds}")
    print_table(rows(result), "nginx in front of an upstream: with tokend's check and without")
    return 0


if __name__ == "__main__":
    sys.exit(main())
