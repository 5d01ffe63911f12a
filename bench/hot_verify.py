"""Hot verify: ``Authenticator.authenticate`` on a cache hit, against the floor.

The floor is the least any digest-keyed verifier must do: ``hashlib.sha256`` of the
secret and a dict look-up. Both run in this process, in alternating short rounds
(this machine is shared and noisy: drift falls on both alike), and the figure is
the median of the per-round ratios.

    .venv/bin/python -m bench.hot_verify
"""

import argparse
import dataclasses
import hashlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.report import Row, print_table
from bench.servers import progress
from tokend.bootstrap import bootstrap
from tokend.settings import Settings
from tokend.storage.migrate import upgrade

SECTION = "1. hot verify"
GOAL_RATIO = 0.5


@dataclass(frozen=True)
class HotVerifyResult:
    floor_per_s: float  # median of the rounds
    tokend_per_s: float
    ratio: float  # median of the per-round ratios tokend / floor
    rounds: int


def measure(rounds: int = 200, calls: int = 20_000) -> HotVerifyResult:
    with tempfile.TemporaryDirectory(prefix="tokend-hot-") as workdir:
        url = f"sqlite:///{Path(workdir) / 'hot.db'}"
        services = bootstrap(Settings(database_url=url))
        try:
            upgrade(services.engine)
            secret = services.admin.create_user("bench").issued.secret
            authenticate = services.authenticator.authenticate
            authenticate(secret)  # now cached, as on every request after the first
            table = {hashlib.sha256(secret.encode()).digest(): authenticate(secret)}

            def floor() -> None:
                table[hashlib.sha256(secret.encode()).digest()]

            def tokend() -> None:
                authenticate(secret)

            progress(f"{rounds} alternating rounds of {calls:,} verifications each")
            floor_s, tokend_s = [], []
            for _ in range(rounds):
                floor_s.append(timed(floor, calls))
                tokend_s.append(timed(tokend, calls))
        finally:
            services.close()
    ratios = [f / t for f, t in zip(floor_s, tokend_s, strict=True)]
    return HotVerifyResult(
        floor_per_s=calls / statistics.median(floor_s),
        tokend_per_s=calls / statistics.median(tokend_s),
        ratio=statistics.median(ratios),
        rounds=rounds,
    )


def timed(call: Callable[[], None], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return time.perf_counter() - started


def rows(result: HotVerifyResult) -> list[Row]:
    return [
        Row(SECTION, "floor: sha256 + dict, verifications/s", f"{result.floor_per_s:,.0f}"),
        Row(SECTION, "tokend (cache hit), verifications/s", f"{result.tokend_per_s:,.0f}"),
        Row(SECTION, "tokend / floor (median of rounds)", f"{result.ratio:.2f}",
            f">= {GOAL_RATIO}", result.ratio >= GOAL_RATIO),
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hot_verify", description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--calls", type=int, default=20_000, help="verifications per round")
    parser.add_argument("--json", action="store_true", help="the result as JSON (bench.compare)")
    args = parser.parse_args(argv)
    result = measure(args.rounds, args.calls)
    if args.json:
        print(json.dumps(dataclasses.asdict(result)))
    else:
        print_table(rows(result), "hot verify")
    return 0


if __name__ == "__main__":
    sys.exit(main())
