"""Sign-in: what a password sign-in costs, with the argon2id parameters tokend uses.

argon2id is slow on purpose, so this is a capacity figure, not a race: how many
sign-ins a second one core gives (the whole `SessionService.sign_in`: look-ups, the
argon2 check, the new session and its audit event, on SQLite), and how many all cores
give together (argon2 releases the GIL, so threads use every core). Beside them, the
argon2 check alone, to show where the time goes.

    .venv/bin/python -m bench.sign_in
"""

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.report import Row, print_table
from bench.servers import progress
from tokend.bootstrap import bootstrap
from tokend.domain.audit import Requester
from tokend.service import passwords
from tokend.settings import Settings
from tokend.storage.migrate import upgrade

SECTION = "6. sign-in"
PASSWORD = "correct horse battery staple"
# OWASP's argon2id minimums (Password Storage Cheat Sheet): each line is one equally
# strong choice; tokend's parameters must reach one of them in memory and passes.
OWASP_MINIMUMS = ((47_104, 1), (19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5))


@dataclass(frozen=True)
class SignInResult:
    argon2_per_s: float  # the hash check alone, one thread
    one_core_per_s: float  # whole sign-ins, one thread
    all_cores_per_s: float  # whole sign-ins, one thread per core
    cores: int

    @property
    def per_core_when_all_busy(self) -> float:
        return self.all_cores_per_s / self.cores


def parameters() -> str:
    return (
        f"argon2id m={passwords.MEMORY_KIB // 1024} MiB, t={passwords.TIME_COST}, "
        f"p={passwords.PARALLELISM}"
    )


def meets_owasp() -> bool:
    return any(
        memory <= passwords.MEMORY_KIB and passes <= passwords.TIME_COST
        for memory, passes in OWASP_MINIMUMS
    )


def measure(seconds: float = 5.0) -> SignInResult:
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="tokend-sign-in-") as workdir:
        services = bootstrap(Settings(database_url=f"sqlite:///{Path(workdir) / 's.db'}"))
        try:
            upgrade(services.engine)
            names = [f"bench{index}" for index in range(cores)]
            for name in names:
                services.admin.create_user(name)
                services.accounts.set_password(name, PASSWORD)
            hasher = services.sessions.passwords
            stored = hasher.hash(PASSWORD)
            requester = Requester(ip="127.0.0.1", user_agent="bench")

            def check() -> None:
                hasher.verify(stored, PASSWORD)

            def sign_in(name: str) -> Callable[[], None]:
                def call() -> None:
                    services.sessions.sign_in(name, PASSWORD, requester)

                return call

            progress(f"argon2 check alone, one thread, {seconds:.0f} s")
            argon2 = rate([check], seconds)
            progress(f"whole sign-ins, one thread, {seconds:.0f} s")
            one = rate([sign_in(names[0])], seconds)
            progress(f"whole sign-ins, {cores} threads, {seconds:.0f} s")
            every = rate([sign_in(name) for name in names], seconds)
        finally:
            services.close()
    return SignInResult(argon2, one, every, cores)


def rate(calls: Sequence[Callable[[], None]], seconds: float) -> float:
    """Calls per second, each callable looping in a thread of its own for ``seconds``."""
    counts = [0] * len(calls)
    deadline = time.perf_counter() + seconds

    def loop(index: int) -> None:
        while time.perf_counter() < deadline:
            calls[index]()
            counts[index] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(len(calls))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


def rows(result: SignInResult) -> list[Row]:
    return [
        Row(SECTION, "hash parameters", parameters(), "≥ OWASP minimum", meets_owasp()),
        Row(SECTION, "argon2 check alone, 1 core", f"{result.argon2_per_s:.1f}/s"),
        Row(SECTION, "sign-ins, 1 core", f"{result.one_core_per_s:.1f}/s"),
        Row(
            SECTION,
            f"sign-ins, {result.cores} cores",
            f"{result.all_cores_per_s:.1f}/s ({result.per_core_when_all_busy:.1f}/s per core)",
        ),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sign_in", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    result = measure(args.seconds)
    print_table(rows(result), "sign-in")
    return 0


if __name__ == "__main__":
    sys.exit(main())
