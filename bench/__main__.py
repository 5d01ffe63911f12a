"""Every benchmark, one table: ``python -m bench`` (``bench/run`` installs what it needs).

1. hot verify (cache hit) against the floor, in-process;
2. HTTP GET /v2/user: tokend serve against the FastAPI ceiling and django-rest-knox;
3. cold verify (cache miss) with 1,000,000 tokens, SQLite and PostgreSQL;
4. list latency, first and deep page, for a user with 10,000 tokens;
5. revocation propagation between two nodes on one PostgreSQL;
6. password sign-ins per second (argon2id), one core and all;
7. the gateway check and introspection against GET /v2/user, on one server;
8. the price of tokend's check behind nginx (deploy/nginx/tokend.conf): req/s and
   latency with the check and without;
9. webhooks: deliveries/s to a local receiver (SQLite and PostgreSQL), and token
   creation with 10 webhooks against none.

``--quick`` runs each one small, to check that they work (figures mean little then).
"""

import argparse
import os
import platform
import signal
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType

from bench import (
    cold_verify,
    gateway,
    hot_verify,
    http_throughput,
    list_latency,
    propagation,
    proxy_check,
    sign_in,
    webhooks,
)
from bench.report import Row, print_table
from bench.servers import progress


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def benchmarks(quick: bool) -> list[tuple[str, Callable[[], list[Row]]]]:
    return [
        ("1. hot verify",
         lambda: hot_verify.rows(hot_verify.measure(rounds=20 if quick else 200))),
        ("2. HTTP throughput",
         lambda: http_throughput.rows(http_throughput.measure(rounds=1, seconds=1) if quick
                                      else http_throughput.measure())),
        ("3. cold verify",
         lambda: cold_verify.rows(cold_verify.measure(20_000 if quick else 1_000_000))),
        ("4. list latency",
         lambda: list_latency.rows(list_latency.measure(calls=50 if quick else 500))),
        ("5. revocation propagation",
         lambda: propagation.rows(propagation.measure(trials=10 if quick else 100))),
        ("6. sign-in",
         lambda: sign_in.rows(sign_in.measure(seconds=1 if quick else 5))),
        ("7. gateway endpoints",
         lambda: gateway.rows(gateway.measure(rounds=1, seconds=1) if quick
                              else gateway.measure())),
        ("8. nginx check",
         lambda: proxy_check.rows(proxy_check.measure(rounds=1, seconds=1) if quick
                                  else proxy_check.measure())),
        ("9. webhooks",
         lambda: webhooks.rows(webhooks.measure(20, rounds=1, seconds=1) if quick
                               else webhooks.measure())),
    ]  # fmt: skip


def run(quick: bool) -> list[Row]:
    """Every benchmark; one that fails becomes a row saying why, and the others still
    run, so a late failure never hides the figures measured before it."""
    table: list[Row] = []
    plan = benchmarks(quick)
    for index, (section, measure) in enumerate(plan, 1):
        progress(f"{index}/{len(plan)} {section.split('. ', 1)[1]}")
        try:
            table += measure()
        except Exception as error:  # any failure: BenchError, a refused request, a crash
            print(f"error in {section}: {error!r}", file=sys.stderr)
            table.append(Row(section, "failed", str(error)[:80], "completes", False))
    return table


def _stop(signum: int, frame: FrameType | None) -> None:
    del frame
    raise SystemExit(128 + signum)  # unwinds, so servers stop and databases are dropped


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small runs, to check the setup")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    started = time.monotonic()
    table = run(args.quick)
    minutes = (time.monotonic() - started) / 60
    print_table(table, f"tokend benchmarks on {machine()}, {minutes:.0f} min")
    return 0 if all(row.met is not False for row in table) else 2


if __name__ == "__main__":
    sys.exit(main())
