"""List latency: ``TokenService.list`` for a user with 10,000 tokens, first page against deep.

For each backend: a fresh database, migrated, one user made through the admin
service and given 9,999 more tokens in bulk (consecutive milliseconds, so createdAt
is unique). The listing is called as the ``GET /v6/user/tokens`` route calls it,
with limit=20 and the principal of the user's own token: the first page (no
cursor) and a page near the end (``until`` = createdAt of the 9,000th newest),
interleaved call by call so the machine's drift falls on both alike.

    .venv/bin/python -m bench.list_latency --calls 500
"""

import argparse
import gc
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from bench.cold_verify import (
    TokenPlan,
    analyze,
    database,
    insert_tokens,
    ms,
    percentile,
    stop_on_sigterm,
)
from bench.report import Row, print_table
from bench.servers import BenchError, progress
from tokend.bootstrap import Services, bootstrap
from tokend.domain.principal import Principal
from tokend.service.tokens import TokenPage
from tokend.settings import Settings
from tokend.storage.migrate import upgrade
from tokend.storage.schema import tokens

BACKENDS = ("sqlite", "postgresql")
TOKENS = 10_000
LIMIT = 20  # the route's default page size
DEEP_RANK = 9_000
CALLS = 500
WARMUP = 20
GOAL_RATIO = 2.0
SECTION = "4. list latency"

Lister = Callable[[], TokenPage]


@dataclass(frozen=True)
class BackendResult:
    backend: str
    first_ns: tuple[int, ...]
    deep_ns: tuple[int, ...]

    @property
    def ratio(self) -> float:
        """Deep page p99 over first page p99: how much a deep cursor costs."""
        return percentile(self.deep_ns, 99) / percentile(self.first_ns, 99)


@dataclass(frozen=True)
class ListLatencyResult:
    tokens: int
    backends: tuple[BackendResult, ...]


def measure(
    calls: int = CALLS, backends: Sequence[str] = BACKENDS, token_count: int = TOKENS
) -> ListLatencyResult:
    if calls < 1 or token_count <= DEEP_RANK + LIMIT:
        raise ValueError(f"need at least 1 call and more than {DEEP_RANK + LIMIT} tokens")
    results = []
    for backend in backends:
        with (
            tempfile.TemporaryDirectory(prefix="tokend-bench-") as workdir,
            database(backend, Path(workdir)) as url,
        ):
            results.append(measure_backend(backend, url, calls, token_count))
    return ListLatencyResult(token_count, tuple(results))


def measure_backend(backend: str, url: str, calls: int, token_count: int) -> BackendResult:
    services = bootstrap(Settings(database_url=url))
    try:
        principal = prepare(services, backend, token_count)
        until = deep_cursor(services.engine, principal.user.id)
        listing = services.tokens.list

        def first() -> TokenPage:
            # Keywords as the route passes them (api/routes/tokens.py).
            return listing(principal, limit=LIMIT, until=None, since=None)

        def deep() -> TokenPage:
            return listing(principal, limit=LIMIT, until=until, since=None)

        check_pages(first(), deep(), until, backend)
        first_ns, deep_ns = time_interleaved(first, deep, calls, backend)
    finally:
        services.close()
    return BackendResult(backend, first_ns, deep_ns)


def prepare(services: Services, backend: str, token_count: int) -> Principal:
    """Make the user and their tokens; return the principal of one of those tokens."""
    upgrade(services.engine)
    progress(f"{backend}: creating the user")
    created = services.admin.create_user("bench")
    authenticator = services.authenticator
    plan = TokenPlan(
        owners=(created.user.id,),
        count=token_count - 1,  # the user's first token is the other one
        end_ms=created.issued.token.created_at,
        secret_format=authenticator.secret_format,
        digester=authenticator.digester,
        sample_size=0,
    )
    insert_tokens(services.engine, plan, backend)
    analyze(services.engine, backend)
    return authenticator.authenticate(created.issued.secret)


def deep_cursor(engine: Engine, user_id: str) -> int:
    query = (
        select(tokens.c.created_at)
        .where(tokens.c.user_id == user_id)
        .order_by(tokens.c.created_at.desc())
        .offset(DEEP_RANK - 1)
        .limit(1)
    )
    with engine.connect() as conn:
        until: int = conn.execute(query).scalar_one()
    return until


def check_pages(first: TokenPage, deep: TokenPage, until: int, backend: str) -> None:
    # A wrong page (empty, or the first one again) would be timed as if it were right.
    if len(first.tokens) != LIMIT or first.prev is not None or first.next is None:
        raise BenchError(f"{backend}: the first page is not a full first page")
    if len(deep.tokens) != LIMIT or deep.tokens[0].created_at >= until or deep.next is None:
        raise BenchError(f"{backend}: the deep page does not start below its cursor")


def time_interleaved(
    first: Lister, deep: Lister, calls: int, backend: str
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    for _ in range(WARMUP):
        first()
        deep()
    progress(f"{backend}: timing {calls:,} first-page and {calls:,} deep-page listings")
    gc.collect()  # the set-up's garbage, collected now rather than inside a timed call
    first_ns: list[int] = []
    deep_ns: list[int] = []
    for _ in range(calls):
        first_ns.append(timed(first))
        deep_ns.append(timed(deep))
    return tuple(first_ns), tuple(deep_ns)


def timed(call: Lister) -> int:
    started = time.perf_counter_ns()
    call()
    return time.perf_counter_ns() - started


def rows(result: ListLatencyResult) -> list[Row]:
    table: list[Row] = []
    for backend in result.backends:
        table += backend_rows(backend, result.tokens)
    return table


def backend_rows(result: BackendResult, token_count: int) -> list[Row]:
    name = result.backend
    table = [Row(SECTION, f"{name}: user's tokens / timed calls per page",
                 f"{token_count:,} / {len(result.first_ns):,}")]  # fmt: skip
    for page, values in (("first page", result.first_ns), ("deep page", result.deep_ns)):
        table.append(Row(SECTION, f"{name}: {page} p50", ms(percentile(values, 50))))
        table.append(Row(SECTION, f"{name}: {page} p99", ms(percentile(values, 99))))
    met = result.ratio <= GOAL_RATIO
    table.append(Row(SECTION, f"{name}: deep p99 / first p99", f"{result.ratio:.2f}",
                     f"<= {GOAL_RATIO:g}", met))  # fmt: skip
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.list_latency", description=__doc__)
    parser.add_argument("--calls", type=int, default=CALLS, help="timed calls per page")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--tokens", type=int, default=TOKENS, help="tokens of the user")
    args = parser.parse_args(argv)
    stop_on_sigterm()
    try:
        result = measure(args.calls, args.backends, args.tokens)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print_table(rows(result), f"Token listing, limit={LIMIT}, user with {args.tokens:,} tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
