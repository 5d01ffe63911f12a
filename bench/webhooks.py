"""Webhooks: how fast deliveries go out, and what webhooks cost token creation.

1. Delivery throughput. A real ``tokend serve`` (2 workers, so 2 senders,
   ``TOKEND_WEBHOOK_ALLOW_PRIVATE=true``) on SQLite, then on PostgreSQL (a fresh
   database, dropped afterwards); a user with 10 webhooks on ``token.created``, all
   pointing at a local receiver (bench/webhook_receiver.py, its own process, which
   answers 204 at once). 500 tokens are created through the API by 16 concurrent
   clients, 5,000 deliveries; the figure is those deliveries over the time from the
   first creation request until the receiver has counted the last. Then, untimed: the
   receiver got every delivery id in the database, each once, each delivered at the
   first attempt, every signature verifies with the reference ``standardwebhooks``
   library (every delivery, not a sample), and each webhook got one delivery for each
   token created. What the receiver itself takes (wrk POSTs) is said beside the figure.
2. Overhead on token creation, on SQLite and on PostgreSQL. Two ``tokend serve`` (2
   workers each, same settings, a fresh database each); one user's 10 webhooks on
   ``token.created`` on one of them, sent for real to the receiver while it is loaded;
   ``POST /v3/user/tokens`` by wrk (a Lua script) in interleaved rounds whose order
   alternates; medians, and the ratio. The server not being loaded is stopped
   (SIGSTOP) meanwhile: the sender of the one with webhooks would otherwise go on
   draining its outbox during the other's rounds, taking the CPU from it.

    .venv/bin/python -m bench.webhooks            # or --quick, a small check run
"""

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import func, select
from standardwebhooks import Webhook as Verifier

from bench.cold_verify import postgres_database, stop_on_sigterm
from bench.http_throughput import WORKERS
from bench.propagation import expect, tokend_cli
from bench.report import Row, print_table
from bench.servers import HOST, BenchError, Target, free_port, progress, running, wait_ready
from bench.wrk import LoadSettings, WrkResult, post_script, require_wrk, run_wrk
from tokend.storage.engine import make_engine
from tokend.storage.schema import webhook_deliveries

REPO_ROOT = Path(__file__).resolve().parent.parent
SECTION = "7. webhooks"
EVENTS = 500
# Ten deliveries an event: the outbox fills faster than it drains (creating a token
# costs more than sending a delivery), so what is timed is the sender, not the API.
DELIVERY_WEBHOOKS = 10
CREATORS = 16  # concurrent clients creating the tokens
OVERHEAD_WEBHOOKS = 10
# Not row 2's 32: each worker's pool grows to as many PostgreSQL connections as it
# has requests in flight, and two servers (the paused one keeps its connections)
# at 32 each, senders included, would pass PostgreSQL's default 100 once other
# clients of the same server are counted: requests would fail with 503.
OVERHEAD_CONNECTIONS = 16
STALL_S = 30.0  # no new delivery for this long: the benchmark fails
CAPACITY_S = 3
TOKEN_BODY = '{"name": "bench"}'


@dataclass(frozen=True)
class DeliveryResult:
    backend: str
    events: int
    deliveries: int
    seconds: float  # first creation request -> N-th delivery at the receiver
    create_seconds: float  # first creation request -> last creation answered
    duplicates: int
    verified: int  # signatures verified with standardwebhooks
    # The same number of deliveries made with no server running, then sent by a new
    # one: from the first delivery to the last, the sender alone.
    drain_seconds: float = 0.0

    @property
    def per_s(self) -> float:
        return self.deliveries / self.seconds

    @property
    def drain_per_s(self) -> float:
        return self.deliveries / self.drain_seconds

    @property
    def created_per_s(self) -> float:
        return self.events / self.create_seconds


@dataclass(frozen=True)
class OverheadResult:
    backend: str
    without_rps: float
    with_rps: float
    per_round: dict[str, tuple[float, ...]]
    load: LoadSettings
    delivered_meanwhile: int  # deliveries the receiver got during the rounds
    pending_after: int  # left in the outbox when the last round ended

    @property
    def ratio(self) -> float:
        return self.with_rps / self.without_rps


@dataclass(frozen=True)
class WebhooksResult:
    receiver_rps: float
    delivery: tuple[DeliveryResult, ...]
    overhead: tuple[OverheadResult, ...]


@dataclass(frozen=True)
class Node:
    """A running tokend serve with its user's token."""

    target: Target  # url: the server's base URL
    database_url: str
    process: subprocess.Popen[bytes]

    def pause(self) -> None:
        # The whole group: the master and its workers (start_new_session: ours alone).
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)


def measure(
    events: int = EVENTS,
    backends: Sequence[str] = ("sqlite", "postgresql"),
    *,
    rounds: int = 5,
    seconds: int = 5,
    overhead: bool = True,
) -> WebhooksResult:
    require_wrk()
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tokend-bench-")))
        receiver = start_receiver(stack, workdir)
        receiver_rps = receiver_capacity(receiver, workdir)
        delivery = []
        for backend in backends:
            delivery.append(measure_delivery(receiver, backend, events, workdir))
        result = []
        if overhead:
            for backend in backends:
                result.append(measure_overhead(receiver, backend, workdir, rounds, seconds))
        progress("stopping servers")
    return WebhooksResult(receiver_rps, tuple(delivery), tuple(result))


# The receiver.


def start_receiver(stack: contextlib.ExitStack, workdir: Path) -> str:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.webhook_receiver:app", "--host", HOST]
    command += ["--port", str(port), "--http", "httptools", "--loop", "uvloop"]
    command += ["--lifespan", "off", "--no-access-log", "--log-level", "warning"]
    log = workdir / "receiver.log"
    progress(f"starting the webhook receiver on port {port}")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    process = stack.enter_context(running(command, log=log, env=env, cwd=REPO_ROOT))
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"the receiver exited with status {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            receiver_stats(base)
            return base
        time.sleep(0.2)
    raise BenchError("the webhook receiver did not start within 60 s")


def receiver_stats(base: str) -> dict[str, int]:
    stats: dict[str, int] = httpx.get(f"{base}/_stats", timeout=10, trust_env=False).json()
    return stats


def receiver_reset(base: str) -> None:
    httpx.post(f"{base}/_reset", timeout=10, trust_env=False).raise_for_status()


def receiver_capacity(base: str, workdir: Path) -> float:
    """POSTs/s the receiver answers (and keeps), from wrk with 16 connections: what it
    could take, to compare with what tokend sends it."""
    progress(f"measuring the receiver's own capacity ({CAPACITY_S} s of wrk POSTs)")
    script = post_script(workdir / "receiver-post.lua", TOKEN_BODY)
    target = Target("receiver", f"{base}/capacity", {"webhook-id": "msg_capacity"},
                    workdir / "receiver.log")  # fmt: skip
    outcome = run_wrk(target, LoadSettings(threads=1, connections=16, seconds=CAPACITY_S), script)
    receiver_reset(base)
    progress(f"receiver: {outcome.requests_per_s:,.0f} POSTs/s")
    return outcome.requests_per_s


# tokend.


def start_node(stack: contextlib.ExitStack, name: str, database_url: str, workdir: Path) -> Node:
    """Migrate, make the user, start tokend serve (WORKERS workers) and wait for it."""
    env = node_environment(database_url)
    tokend_cli(["db", "upgrade"], env, workdir)
    created = tokend_cli(["admin", "create-user", "bench", "--format", "json"], env, workdir)
    headers = {"Authorization": f"Bearer {json.loads(created)['bearerToken']}"}
    return serve(stack, name, database_url, headers, workdir)


def node_environment(database_url: str) -> dict[str, str]:
    # Only these: a caller's TOKEND_* would make this tokend differ from the default.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKEND_")}
    env["TOKEND_DATABASE_URL"] = database_url
    env["TOKEND_WEBHOOK_ALLOW_PRIVATE"] = "true"  # the receiver is on loopback
    return env


def serve(
    stack: contextlib.ExitStack,
    name: str,
    database_url: str,
    headers: dict[str, str],
    workdir: Path,
) -> Node:
    env = node_environment(database_url)
    port = free_port()
    command = [sys.executable, "-m", "tokend", "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(WORKERS)]
    target = Target(name, f"http://{HOST}:{port}", headers, workdir / f"{name}.log")
    progress(f"starting {name} (tokend serve, {WORKERS} workers) on port {port}")
    # cwd is the temp dir: tokend reads a .env from its working directory.
    process = stack.enter_context(running(command, log=target.log, env=env, cwd=workdir))
    wait_ready(Target(name, f"{target.url}/v2/user", headers, target.log), process)
    return Node(target, database_url, process)


def database(stack: contextlib.ExitStack, backend: str, sqlite_file: Path) -> str:
    """A fresh database's URL: the SQLite file, or a PostgreSQL database of its own
    (dropped when ``stack`` closes, after the servers on it have stopped)."""
    if backend == "sqlite":
        return f"sqlite:///{sqlite_file}"
    return stack.enter_context(postgres_database())


def add_webhooks(node: Node, receiver: str, count: int) -> dict[str, str]:
    """``count`` webhooks on token.created, each to its own path; path -> secret."""
    secrets: dict[str, str] = {}
    with client(node) as http:
        for index in range(count):
            path = f"/{node.target.name}/{index}"
            body = {"url": f"{receiver}{path}", "events": ["token.created"]}
            created = expect(http.post("/v1/webhooks", json=body), 200, node.target.name)
            secrets[path] = created["secret"]
    return secrets


def client(node: Node) -> httpx.Client:
    # trust_env=False: a proxy from the environment must not sit on loopback traffic.
    headers = dict(node.target.headers)
    return httpx.Client(base_url=node.target.url, headers=headers, timeout=30, trust_env=False)


# 1. Delivery throughput.


def measure_delivery(receiver: str, backend: str, events: int, workdir: Path) -> DeliveryResult:
    with contextlib.ExitStack() as stack:
        database_url = database(stack, backend, workdir / "delivery.db")
        with contextlib.ExitStack() as serving:
            node = start_node(serving, f"delivery-{backend}", database_url, workdir)
            result, secrets = measure_sending(receiver, node, backend, events)
        result = dataclasses.replace(
            result, drain_seconds=measure_drain(receiver, node, secrets, events, workdir)
        )
    return result


def measure_sending(
    receiver: str, node: Node, backend: str, events: int
) -> tuple[DeliveryResult, dict[str, str]]:
    """Tokens created through the API while the sender sends: the end-to-end figure."""
    secrets = add_webhooks(node, receiver, DELIVERY_WEBHOOKS)
    receiver_reset(receiver)
    progress(f"{backend}: creating {events:,} tokens, {CREATORS} clients at a time")
    t0 = time.monotonic_ns()
    token_ids = asyncio.run(create_tokens(node, events, CREATORS))
    created_ns = time.monotonic_ns()
    last_ns = wait_for_deliveries(receiver, events * len(secrets))
    result = DeliveryResult(
        backend=backend,
        events=events,
        deliveries=events * len(secrets),
        seconds=(last_ns - t0) / 1e9,
        create_seconds=(created_ns - t0) / 1e9,
        duplicates=0,
        verified=0,
    )
    progress(
        f"{backend}: {result.per_s:,.0f} deliveries/s; tokens created at "
        f"{result.created_per_s:,.0f}/s; now checking every delivery"
    )
    checked = check_deliveries(receiver, node.database_url, secrets, token_ids, since_ms=0)
    return dataclasses.replace(result, **checked), secrets


def measure_drain(
    receiver: str, node: Node, secrets: dict[str, str], events: int, workdir: Path
) -> float:
    """The sender alone: ``events`` more tokens made in this process, with no server
    running, then a new tokend serve sends the backlog; seconds from the first
    delivery to the last (its start-up excluded), every delivery checked again."""
    since_ms = int(time.time() * 1000)
    progress(f"{node.target.name}: {events:,} tokens made with no server running")
    token_ids = create_offline(node, events)
    receiver_reset(receiver)
    with contextlib.ExitStack() as serving:
        name = f"{node.target.name}-drain"
        drain = serve(serving, name, node.database_url, dict(node.target.headers), workdir)
        wait_for_deliveries(receiver, events * len(secrets))
        stats = receiver_stats(receiver)
        seconds = (stats["lastNs"] - stats["firstNs"]) / 1e9
        progress(f"{name}: the backlog sent at {events * len(secrets) / seconds:,.0f}/s")
        checked = check_deliveries(receiver, drain.database_url, secrets, token_ids, since_ms)
        if checked["duplicates"]:
            raise BenchError(f"{name}: {checked['duplicates']:,} deliveries sent twice")
    return seconds


def create_offline(node: Node, count: int) -> list[str]:
    # Imported here: only this step runs tokend in the benchmark's own process.
    from tokend.bootstrap import bootstrap
    from tokend.settings import Settings

    secret = node.target.headers["Authorization"].removeprefix("Bearer ")
    services = bootstrap(Settings(database_url=node.database_url, webhook_allow_private=True))
    try:
        actor = services.authenticator.authenticate(secret)
        return [services.tokens.create(actor, name=f"d{index}").token.id for index in range(count)]
    finally:
        services.close()


async def create_tokens(node: Node, count: int, concurrency: int) -> list[str]:
    """Create ``count`` tokens, ``concurrency`` requests in flight; their ids."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    ids: list[str] = []
    async with httpx.AsyncClient(
        base_url=node.target.url,
        headers=dict(node.target.headers),
        limits=limits,
        timeout=60,
        trust_env=False,
    ) as http:
        remaining = iter(range(count))

        async def creator() -> None:
            for index in remaining:
                response = await http.post("/v3/user/tokens", json={"name": f"t{index}"})
                ids.append(expect(response, 200, node.target.name)["token"]["id"])

        await asyncio.gather(*(creator() for _ in range(concurrency)))
    return ids


def wait_for_deliveries(receiver: str, expected: int) -> int:
    """Poll the receiver until it has ``expected`` deliveries; when the last arrived."""
    seen, progress_at = -1, time.monotonic()
    while True:
        stats = receiver_stats(receiver)
        if stats["count"] >= expected:
            return stats["lastNs"]
        if stats["count"] != seen:
            seen, progress_at = stats["count"], time.monotonic()
        elif time.monotonic() - progress_at > STALL_S:
            raise BenchError(
                f"{stats['count']:,} of {expected:,} deliveries, none for {STALL_S:g} s"
            )
        time.sleep(0.02)


def check_deliveries(
    receiver: str,
    database_url: str,
    secrets: dict[str, str],
    token_ids: Sequence[str],
    since_ms: int,
) -> dict[str, int]:
    """Untimed: every outbox row (of events since ``since_ms``) delivered in one
    attempt, the receiver got each id once, every signature verifies and each webhook
    got one delivery naming each token created."""
    time.sleep(1.0)  # a late duplicate (none expected) would arrive meanwhile
    received = httpx.get(f"{receiver}/_deliveries", timeout=60, trust_env=False).json()
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    webhook_deliveries.c.id,
                    webhook_deliveries.c.status,
                    webhook_deliveries.c.attempts,
                ).where(webhook_deliveries.c.created_at >= since_ms)
            ).all()
    finally:
        engine.dispose()
    name = database_url.rsplit("/", 1)[-1]
    expected = len(token_ids) * len(secrets)
    if len(rows) != expected:
        raise BenchError(f"{name}: {len(rows):,} deliveries in the outbox, not {expected:,}")
    undelivered = [row for row in rows if row.status != "delivered" or row.attempts != 1]
    if undelivered:
        raise BenchError(f"{name}: {len(undelivered):,} deliveries not delivered at the first try")
    ids = [item["webhook-id"] for item in received]
    if set(ids) != {row.id for row in rows}:
        raise BenchError(f"{name}: the receiver's webhook-ids are not the outbox's")
    named: dict[str, set[str]] = {path: set() for path in secrets}
    for item in received:
        headers = {
            key: item[key] for key in ("webhook-id", "webhook-timestamp", "webhook-signature")
        }
        # Raises WebhookVerificationError if forged, stale or signed with another secret.
        payload = Verifier(secrets[item["path"]]).verify(item["body"], headers)
        if payload["type"] != "token.created":
            raise BenchError(f"{name}: a delivery of {payload['type']}, not token.created")
        named[item["path"]].add(payload["data"]["token"]["id"])
    if any(tokens != set(token_ids) for tokens in named.values()):
        raise BenchError(f"{name}: a webhook's deliveries name other tokens than those created")
    return {"duplicates": len(ids) - len(set(ids)), "verified": len(received)}


# 2. Overhead on token creation.


def measure_overhead(
    receiver: str, backend: str, workdir: Path, rounds: int, seconds: int
) -> OverheadResult:
    load = LoadSettings(connections=OVERHEAD_CONNECTIONS, seconds=seconds, timeout_s=10)
    script = post_script(workdir / "create-token.lua", TOKEN_BODY)
    with contextlib.ExitStack() as stack:
        nodes = {
            name: start_node(stack, name, database(stack, backend, workdir / f"{name}.db"), workdir)
            for name in ("without", "with")
        }
        add_webhooks(nodes["with"], receiver, OVERHEAD_WEBHOOKS)
        # Resumed whatever happens: a stopped server would not hear the SIGTERM.
        for node in nodes.values():
            stack.callback(node.resume)
            node.pause()
        for node in nodes.values():
            progress(f"warming up {node.target.name} (2 s)")
            run_alone(node, dataclasses.replace(load, seconds=2), script)
        receiver_reset(receiver)
        order = list(nodes.values())
        per_round: dict[str, list[float]] = {name: [] for name in nodes}
        for index in range(rounds):
            # The order alternates, so neither is always the one after the other.
            for node in order if index % 2 == 0 else order[::-1]:
                outcome = run_alone(node, load, script)
                per_round[node.target.name].append(outcome.requests_per_s)
                progress(f"round {index + 1}/{rounds} {node.target.name}: {describe(outcome)}")
        delivered = receiver_stats(receiver)["count"]
        pending = outbox_pending(nodes["with"])
        progress(f"stopping both ({pending:,} deliveries still pending)")
    medians = {name: statistics.median(values) for name, values in per_round.items()}
    return OverheadResult(
        backend=backend,
        without_rps=medians["without"],
        with_rps=medians["with"],
        per_round={name: tuple(values) for name, values in per_round.items()},
        load=load,
        delivered_meanwhile=delivered,
        pending_after=pending,
    )


def run_alone(node: Node, load: LoadSettings, script: Path) -> WrkResult:
    """Resume the node, load it, and stop it again (also when wrk fails)."""
    target = node.target
    endpoint = Target(target.name, f"{target.url}/v3/user/tokens", target.headers, target.log)
    node.resume()
    try:
        return run_wrk(endpoint, load, script)
    finally:
        node.pause()


def outbox_pending(node: Node) -> int:
    engine = make_engine(node.database_url)
    try:
        with engine.connect() as conn:
            count: int = conn.execute(
                select(func.count()).where(webhook_deliveries.c.status == "pending")
            ).scalar_one()
            return count
    finally:
        engine.dispose()


def describe(outcome: WrkResult) -> str:
    return f"{outcome.requests_per_s:,.0f} req/s ({outcome.requests:,} requests)"


# The table.


def rows(result: WebhooksResult) -> list[Row]:
    table = [
        Row(SECTION, "receiver's own capacity (wrk POSTs, 16 connections)",
            f"{result.receiver_rps:,.0f}/s"),
    ]  # fmt: skip
    for item in result.delivery:
        name = "SQLite" if item.backend == "sqlite" else "PostgreSQL"
        table += [
            Row(SECTION,
                f"{name}: tokens created (API, {CREATORS} clients), {DELIVERY_WEBHOOKS} webhooks",
                f"{item.events:,} at {item.created_per_s:,.0f}/s"),
            Row(SECTION, f"{name}: received / duplicates / signatures verified",
                f"{item.deliveries:,} / {item.duplicates:,} / {item.verified:,}"),
            Row(SECTION, f"{name}: deliveries/s, first event to last delivery",
                f"{item.per_s:,.0f}"),
            Row(SECTION, f"{name}: deliveries/s, the same made beforehand, sender alone",
                f"{item.drain_per_s:,.0f}"),
        ]  # fmt: skip
    for overhead in result.overhead:
        name = "SQLite" if overhead.backend == "sqlite" else "PostgreSQL"
        load = overhead.load
        how = f"{WORKERS} workers, wrk -t{load.threads} -c{load.connections} -d{load.seconds}s"
        table += [
            Row(SECTION, f"{name}: POST /v3/user/tokens, no webhooks, req/s ({how})",
                f"{overhead.without_rps:,.0f}"),
            Row(SECTION, f"{name}: the same, {OVERHEAD_WEBHOOKS} webhooks on token.created",
                f"{overhead.with_rps:,.0f}"),
            Row(SECTION, f"{name}: deliveries during the rounds / pending after",
                f"{overhead.delivered_meanwhile:,} / {overhead.pending_after:,}"),
            Row(SECTION, f"{name}: with / without (medians)", f"{overhead.ratio:.2f}"),
        ]  # fmt: skip
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small runs, to check the setup")
    parser.add_argument("--events", type=int, default=EVENTS, help="tokens created, row 7")
    parser.add_argument("--backends", nargs="+", choices=("sqlite", "postgresql"),
                        default=["sqlite", "postgresql"])  # fmt: skip
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds, row 8")
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration of one run")
    parser.add_argument("--no-overhead", action="store_true", help="row 7 only")
    args = parser.parse_args(argv)
    stop_on_sigterm()
    events, rounds, seconds = args.events, args.rounds, args.seconds
    if args.quick:
        events, rounds, seconds = 20, 1, 1
    try:
        result = measure(
            events, args.backends, rounds=rounds, seconds=seconds, overhead=not args.no_overhead
        )
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print_table(rows(result), "Webhooks: delivery throughput and token creation overhead")
    return 0


if __name__ == "__main__":
    sys.exit(main())
