"""What a client without a token can make a `tokend serve` worker hold: request heads
are bounded in size (431) and in time, and silent connections cannot crowd out a
real client. Real servers, real sockets; memory is read from /proc.

Each server here runs one worker, so the serve process is the worker.
"""

import resource
import select
import socket
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.api.assertions import assert_error
from tests.api.raw_http import raw_request
from tests.support import Server

MIB = 1 << 20
LIMIT = 8192  # TOKEND_MAX_HEADER_BYTES's default


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("limits")
    with Server(database_url=f"sqlite:///{folder / 't.db'}", log_path=folder / "t.log") as running:
        yield running


def address(server: Server) -> tuple[str, int]:
    return ("127.0.0.1", server.port)


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def peak_cost_kib(pid: int, send: Callable[[], object]) -> int:
    """How far the process' resident memory rose above where it was, at its peak,
    while ``send`` ran: the peak counter is reset first (clear_refs 5)."""
    before = memory_kib(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    send()
    return max(memory_kib(pid, "VmHWM"), memory_kib(pid, "VmRSS")) - before


def test_a_1_mib_header_gets_431_and_costs_under_5_mb(server: Server) -> None:
    pid = server.process.pid  # type: ignore[union-attr]
    # Once first, so that the code of the refusal is loaded before it is measured.
    assert (
        raw_request(server.url, b"GET", b"/healthz", [(b"X-Big", b"a" * 9000)]).status_code == 431
    )
    answers = []

    cost = peak_cost_kib(
        pid,
        lambda: answers.append(
            raw_request(server.url, b"GET", b"/healthz", [(b"X-Big", b"a" * MIB)])
        ),
    )

    assert_error(answers[0], 431, "request_header_fields_too_large")
    assert answers[0].headers["connection"] == "close"
    assert cost < 5 * 1024, f"the server grew by {cost} KiB"


def test_a_10_mb_authorization_header_is_431_not_401(server: Server) -> None:
    pid = server.process.pid  # type: ignore[union-attr]
    secret = b"Bearer tkd_" + b"A" * (10 * MIB)
    answers = []

    cost = peak_cost_kib(
        pid,
        lambda: answers.append(
            raw_request(server.url, b"GET", b"/v2/user", [(b"Authorization", secret)])
        ),
    )

    assert_error(answers[0], 431, "request_header_fields_too_large")
    assert cost < 5 * 1024, f"the server grew by {cost} KiB"


def test_a_1_mib_target_is_431(server: Server) -> None:
    answer = raw_request(server.url, b"GET", b"/healthz?" + b"a" * MIB)

    assert answer.status_code == 431


def test_the_limit_is_on_the_target_and_header_names_and_values(server: Server) -> None:
    # raw_request sends Host: tokend and Connection: close besides these.
    counted = len(b"/healthz") + len(b"Hosttokend") + len(b"Connectionclose") + len(b"X-Pad")
    at_limit = [(b"X-Pad", b"p" * (LIMIT - counted))]
    over = [(b"X-Pad", b"p" * (LIMIT - counted + 1))]

    assert raw_request(server.url, b"GET", b"/healthz", at_limit).status_code == 200
    assert raw_request(server.url, b"GET", b"/healthz", over).status_code == 431


def test_a_head_under_the_limit_sent_in_small_pieces_is_served(server: Server) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: tokend\r\nConnection: close\r\n"
    head += b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 60) for i in range(100)) + b"\r\n"
    with socket.create_connection(address(server), timeout=10) as sock:
        for offset in range(0, len(head), 100):
            sock.sendall(head[offset : offset + 100])
            time.sleep(0.001)
        answer = read_until_closed(sock)

    assert answer.startswith(b"HTTP/1.1 200 ")


def test_a_large_body_does_not_count_as_head(server: Server) -> None:
    # Head and a 60 KiB body in one write: the body is the body limit's business.
    body = b'{"name": "' + b"n" * 60_000 + b'"}'
    answer = raw_request(server.url, b"POST", b"/v3/user/tokens", [], body)

    assert answer.status_code == 401


def test_pipelined_requests_are_all_answered(server: Server) -> None:
    one = b"GET /healthz HTTP/1.1\r\nHost: tokend\r\n\r\n"
    last = b"GET /healthz HTTP/1.1\r\nHost: tokend\r\nConnection: close\r\n\r\n"
    with socket.create_connection(address(server), timeout=10) as sock:
        sock.sendall(one * 3 + last)
        answer = read_until_closed(sock)

    assert answer.count(b"HTTP/1.1 200 ") == 4


def read_until_closed(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def read_one_answer(sock: socket.socket) -> bytes:
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def closed_by_server(sock: socket.socket, wait_s: float = 0.0) -> bool:
    """Whether the server has closed ``sock`` (after any answer it sent)."""
    deadline = time.monotonic() + wait_s
    poll = select.poll()  # select() stops at file descriptor 1,023
    poll.register(sock, select.POLLIN)
    while True:
        if not poll.poll(max(0, round((deadline - time.monotonic()) * 1000))):
            return False
        try:
            if not sock.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True


def test_a_trickling_client_and_a_silent_one_are_dropped_within_10_s(server: Server) -> None:
    opened = time.monotonic()
    with (
        socket.create_connection(address(server), timeout=10) as trickler,
        socket.create_connection(address(server), timeout=10) as silent,
    ):
        trickler.sendall(b"GET /healthz HTTP/1.1\r\nHost: tokend\r\nX-Slow: ")
        answer = b""
        dropped = False
        while not dropped and time.monotonic() - opened < 15:
            try:
                trickler.sendall(b"a")  # one header byte a second
            except (BrokenPipeError, ConnectionResetError):
                break
            readable, _, _ = select.select([trickler], [], [], 1.0)
            if readable:
                try:
                    chunk = trickler.recv(65536)
                except ConnectionResetError:
                    break
                answer += chunk
                dropped = not chunk
        trickler_s = time.monotonic() - opened

        assert trickler_s < 10, f"the trickling client was held {trickler_s:.1f} s"
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert b'"request_timeout"' in answer
        # The silent connection is past the same deadline: closed, without an answer.
        assert closed_by_server(silent, wait_s=2)


def test_an_idle_keep_alive_connection_is_closed_after_the_header_timeout(
    tmp_path: Path,
) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: tokend\r\n\r\n"
    with (
        Server(
            database_url=f"sqlite:///{tmp_path / 'keepalive.db'}",
            log_path=tmp_path / "keepalive.log",
            env={"TOKEND_HEADER_TIMEOUT_S": "1"},
        ) as server,
        socket.create_connection(address(server), timeout=10) as sock,
    ):
        for _ in range(3):  # kept alive while it keeps asking in time
            sock.sendall(request)
            assert read_one_answer(sock).startswith(b"HTTP/1.1 200 ")
            time.sleep(0.5)
        assert not closed_by_server(sock)

        assert closed_by_server(sock, wait_s=3)


def limit_open_files(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


@pytest.fixture
def many_open_files() -> Iterator[None]:
    """This test process may hold a few thousand sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 2300:
        pytest.skip("this process cannot open 2,000 sockets (hard open-file limit)")
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def timed_request(server: Server) -> float:
    started = time.monotonic()
    try:
        answer = raw_request(server.url, b"GET", b"/healthz")
    except OSError:  # refused or timed out: as bad as it gets
        return 10.0
    assert answer.status_code == 200
    return time.monotonic() - started


def test_2000_silent_connections_do_not_slow_a_client_down(
    tmp_path: Path, many_open_files: None
) -> None:
    # The open-file limit of a default Linux login (1,024, which serve cannot raise),
    # and a header timeout long enough that only the connection cap makes room.
    with Server(
        database_url=f"sqlite:///{tmp_path / 'crowd.db'}",
        log_path=tmp_path / "crowd.log",
        env={"TOKEND_HEADER_TIMEOUT_S": "120"},
        preexec_fn=lambda: limit_open_files(1024),
    ) as server:
        silent = []
        try:
            for _ in range(2000):
                silent.append(socket.create_connection(address(server), timeout=10))
            for _ in range(5):
                timed_request(server)  # warm-up
            latencies: list[float] = []
            while len(latencies) < 100 and sum(latencies) < 10:  # give up on a stuck server
                latencies.append(timed_request(server))
            latencies.sort()
            closed = sum(closed_by_server(sock) for sock in silent)
        finally:
            for sock in silent:
                sock.close()

    assert len(latencies) == 100, f"{len(latencies)} requests took {sum(latencies):.0f} s"
    p99 = latencies[98]
    assert p99 < 0.1, (
        f"p99 {p99 * 1000:.0f} ms, median {statistics.median(latencies) * 1000:.1f} ms"
    )
    # It could not have held them all: the oldest silent ones made room.
    assert closed >= 2000 - 1024, closed
