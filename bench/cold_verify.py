"""Cold verify: ``Authenticator.authenticate`` on a cache miss, 1,000,000 tokens stored.

For SQLite and for PostgreSQL: a fresh database, migrated, with 1,000 users of 1,000
tokens each bulk-inserted straight into ``tokens`` (COPY on PostgreSQL). 2,000 of the
rows carry the digest of a real secret kept in memory; those secrets are then
authenticated once each, in random order, through the services built with
``cache_size=0``, so every call goes to the database. The services run their
background threads (activeAt writer, revocation feed) as a serving process does.

    .venv/bin/python -m bench.cold_verify --tokens 20000
"""

import argparse
import contextlib
import gc
import math
import os
import random
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Engine, insert

from bench.report import Row, print_table
from bench.servers import BenchError, progress
from tokend.bootstrap import Services, bootstrap
from tokend.domain import ids
from tokend.domain.digest import Digester
from tokend.domain.secret import SecretFormat
from tokend.settings import Settings
from tokend.storage.migrate import upgrade
from tokend.storage.schema import tokens, users

PG_ADMIN_DSN = os.environ.get("TOKEND_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")
TOKENS_PER_USER = 1_000
SAMPLE = 2_000
WARMUP = 100
CHUNK = 50_000
PROGRESS_EVERY = 100_000
GOAL_P99_MS = 2.0
DAY_MS = 86_400_000
SECTION = "3. cold verify"
# Read by the columns of COPY and by the rows of the SQLite executemany alike.
COLUMNS = tuple(column.name for column in tokens.columns)


@dataclass(frozen=True)
class Sample:
    """A stored token whose secret is known, so it can really authenticate."""

    token_id: str
    secret: str


@dataclass(frozen=True)
class TokenPlan:
    """What to bulk-insert: ``count`` tokens over ``owners``, all created before ``end_ms``."""

    owners: tuple[str, ...]
    count: int
    end_ms: int
    secret_format: SecretFormat
    digester: Digester
    sample_size: int


@dataclass(frozen=True)
class BackendResult:
    backend: str
    tokens: int
    users: int
    load_s: float
    latencies_ns: tuple[int, ...]  # one per timed call, in call order


@dataclass(frozen=True)
class ColdVerifyResult:
    backends: tuple[BackendResult, ...]


def measure(
    token_count: int = 1_000_000,
    backends: Sequence[str] = BACKENDS,
    sample_size: int = SAMPLE,
) -> ColdVerifyResult:
    if token_count < 1 or sample_size <= WARMUP:
        raise ValueError(f"need at least 1 token and a sample larger than {WARMUP}")
    results = []
    for backend in backends:
        with (
            tempfile.TemporaryDirectory(prefix="tokend-bench-") as workdir,
            database(backend, Path(workdir)) as url,
        ):
            results.append(measure_backend(backend, url, token_count, sample_size))
    return ColdVerifyResult(tuple(results))


def measure_backend(backend: str, url: str, token_count: int, sample_size: int) -> BackendResult:
    # No verification cache: every call is a miss and goes to the database.
    services = bootstrap(Settings(database_url=url, cache_size=0))
    try:
        started = time.perf_counter()
        samples, user_count = load(services, backend, token_count, sample_size)
        load_s = time.perf_counter() - started
        progress(f"{backend}: {token_count:,} tokens loaded in {load_s:.0f} s")
        # As in a serving process: the activeAt writer and the revocation feed run
        # beside the timed calls, and take their share of the CPU and the database.
        services.start()
        latencies_ns = time_misses(services, backend, samples)
    finally:
        services.close()
    return BackendResult(backend, token_count, user_count, load_s, latencies_ns)


def load(
    services: Services, backend: str, token_count: int, sample_size: int
) -> tuple[list[Sample], int]:
    engine = services.engine
    upgrade(engine)
    user_count = math.ceil(token_count / TOKENS_PER_USER)
    progress(f"{backend}: creating {user_count:,} users")
    # The first through the service, as an operator would; the rest in bulk.
    first = services.admin.create_user("bench-0")
    owners = (first.user.id, *insert_users(engine, user_count - 1))
    plan = TokenPlan(
        owners=owners,
        count=token_count,
        # A day before the first user's own token, whose createdAt stays unique; the
        # activeAt of creation is then stale, as for a token not used lately.
        end_ms=first.issued.token.created_at - DAY_MS,
        secret_format=services.authenticator.secret_format,
        digester=services.authenticator.digester,
        sample_size=min(sample_size, token_count),
    )
    samples = insert_tokens(engine, plan, backend)
    analyze(engine, backend)
    return samples, user_count


def insert_users(engine: Engine, count: int) -> list[str]:
    now = int(time.time() * 1000)
    rows: list[dict[str, Any]] = [
        {"id": ids.new_user_id(), "username": f"bench-{n}", "email": f"bench-{n}@example.com",
         "name": None, "created_at": now}
        for n in range(1, count + 1)
    ]  # fmt: skip
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(users), rows)
    return [row["id"] for row in rows]


def insert_tokens(engine: Engine, plan: TokenPlan, label: str) -> list[Sample]:
    """Insert the planned tokens in chunks, one transaction each; return the sample."""
    rng = random.Random()
    sampled = set(rng.sample(range(plan.count), plan.sample_size))
    samples: list[Sample] = []
    started = time.perf_counter()
    real = f" ({plan.sample_size:,} with real secrets)" if plan.sample_size else ""
    progress(f"{label}: inserting {plan.count:,} tokens{real}")
    for start in range(0, plan.count, CHUNK):
        stop = min(start + CHUNK, plan.count)
        rows = [token_row(plan, index, rng, sampled, samples) for index in range(start, stop)]
        write_chunk(engine, rows)
        if stop // PROGRESS_EVERY > start // PROGRESS_EVERY or stop == plan.count:
            elapsed = time.perf_counter() - started
            progress(f"{label}: {stop:,} / {plan.count:,} tokens inserted ({elapsed:.0f} s)")
    rng.shuffle(samples)  # insertion order would otherwise be look-up order
    return samples


def token_row(
    plan: TokenPlan, index: int, rng: random.Random, sampled: set[int], samples: list[Sample]
) -> dict[str, Any]:
    # Owners take turns, so each user's tokens are spread over the whole period as
    # real ones are; consecutive milliseconds keep createdAt unique per user.
    created_at = plan.end_ms - plan.count + index
    token_id = "".join(rng.choices(ids.BASE62, k=ids.ID_LENGTH))
    if index in sampled:
        secret = plan.secret_format.generate()
        digest = plan.digester.digest(secret)
        suffix = plan.secret_format.suffix(secret)
        samples.append(Sample(token_id, secret))
    else:
        # Indistinguishable from a SHA-256 output, at a fraction of the cost.
        digest = rng.randbytes(32)
        suffix = "".join(rng.choices(ids.BASE62, k=4))
    return {
        "id": token_id, "user_id": plan.owners[index % len(plan.owners)],
        "name": f"token {index}", "digest": digest, "prefix": plan.secret_format.prefix,
        "suffix": suffix, "origin": "manual", "scope_type": "user", "team_id": None,
        "project_id": None, "created_at": created_at, "active_at": created_at,
        "expires_at": None, "revoked_at": None, "leaked_at": None, "leaked_url": None,
    }  # fmt: skip


def write_chunk(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        if engine.dialect.name != "postgresql":
            conn.execute(insert(tokens), rows)
            return
        # COPY is several times faster than even batched INSERTs on PostgreSQL.
        copy_sql = sql.SQL("COPY tokens ({}) FROM STDIN").format(
            sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
        )
        raw = conn.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row([row[name] for name in COLUMNS])


def analyze(engine: Engine, label: str) -> None:
    progress(f"{label}: analysing")
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        return
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM refuses a transaction
        # VACUUM too: a million fresh rows would otherwise set off autovacuum in the
        # middle of the timing, and leave hint bits for the timed reads to write.
        conn.exec_driver_sql("VACUUM (ANALYZE)")
        # And the load's dirty pages written now, not by a checkpoint while timing.
        conn.exec_driver_sql("CHECKPOINT")


def time_misses(services: Services, label: str, samples: Sequence[Sample]) -> tuple[int, ...]:
    """Authenticate each sample once: warm-up first, then the timed calls."""
    authenticate = services.authenticator.authenticate
    progress(f"{label}: warming up with {WARMUP} secrets")
    for sample in samples[:WARMUP]:
        authenticate(sample.secret)
    timed = samples[WARMUP:]
    progress(f"{label}: timing {len(timed):,} cache-miss verifications")
    gc.collect()  # the load's garbage, collected now rather than inside a timed call
    latencies_ns: list[int] = []
    for sample in timed:
        started = time.perf_counter_ns()
        principal = authenticate(sample.secret)
        latencies_ns.append(time.perf_counter_ns() - started)
        if principal.token.id != sample.token_id:
            raise BenchError(f"{label}: a secret authenticated as another token")
    return tuple(latencies_ns)


@contextlib.contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'tokend.db'}"
    else:
        with postgres_database() as url:
            yield url


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database, dropped afterwards."""
    name = f"tokend_bench_{secrets.token_hex(6)}"
    with admin_connection() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    progress(f"created PostgreSQL database {name}")
    try:
        yield f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    finally:
        # A new connection: the first may have been cut during a long run.
        with admin_connection() as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))
        progress(f"dropped PostgreSQL database {name}")


def admin_connection() -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        raise BenchError(f"PostgreSQL at {PG_ADMIN_DSN} is unreachable: {error}") from error


def percentile(values: Sequence[int], percent: float) -> int:
    """Nearest-rank percentile: a value that was really measured."""
    if not values:
        raise BenchError("no values to take a percentile of")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def ms(nanoseconds: float) -> str:
    return f"{nanoseconds / 1e6:.2f} ms"


def rows(result: ColdVerifyResult) -> list[Row]:
    table: list[Row] = []
    for backend in result.backends:
        table += backend_rows(backend)
    return table


def backend_rows(result: BackendResult) -> list[Row]:
    name, values = result.backend, result.latencies_ns
    p99 = percentile(values, 99)
    return [
        Row(SECTION, f"{name}: tokens stored", f"{result.tokens:,} ({result.users:,} users)"),
        Row(SECTION, f"{name}: load (migrate, insert, analyse)", f"{result.load_s:.0f} s"),
        Row(SECTION, f"{name}: timed misses", f"{len(values):,}"),
        Row(SECTION, f"{name}: p50", ms(percentile(values, 50))),
        Row(SECTION, f"{name}: p99", ms(p99), f"< {GOAL_P99_MS:g} ms", p99 < GOAL_P99_MS * 1e6),
    ]


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so context managers drop databases and stop servers."""

    def handle(signum: int, frame: FrameType | None) -> None:
        del frame
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handle)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_verify", description=__doc__)
    parser.add_argument("--tokens", type=int, default=1_000_000, help="tokens stored")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--sample", type=int, default=SAMPLE, help="secrets authenticated")
    args = parser.parse_args(argv)
    stop_on_sigterm()
    try:
        result = measure(args.tokens, args.backends, args.sample)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print_table(rows(result), f"Cold verify (cache miss), {args.tokens:,} tokens stored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
