"""Bytes on a socket, for requests that httpx refuses to send.

httpx (h11) will not put trailing whitespace, NUL bytes or an unknown method on the
wire; a broken client will. The answer comes back as an ``httpx.Response`` so that
the same assertions apply to it.
"""

import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx


def raw_request(
    base_url: str,
    method: bytes,
    target: bytes,
    headers: Sequence[tuple[bytes, bytes]] = (),
    body: bytes = b"",
) -> httpx.Response:
    """Send one HTTP/1.1 request exactly as given and read the whole answer."""
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: tokend", b"Connection: close"]
    lines += [name + b": " + value for name, value in headers]
    if body:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    parts = urlsplit(base_url)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        answer = _read_all(sock)
    return _parse(answer, httpx.Request(method.decode("latin-1"), base_url))


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(answer: bytes, request: httpx.Request) -> httpx.Response:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 "), f"no HTTP answer: {answer[:200]!r}"
    headers = []
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers.append((name.strip(), value.strip()))
    length = dict((name.lower(), value) for name, value in headers).get(b"content-length")
    if length is not None:
        body = body[: int(length)]
    return httpx.Response(
        int(status_line.split()[1]), headers=headers, content=body, request=request
    )


# Headers that differ between two answers by design.
PER_ANSWER = frozenset({"date", "x-request-id"})


def wire(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """An answer as a client sees it, less what differs from one answer to the next
    (the date, and the request id, which every answer must carry)."""
    assert response.headers.get("x-request-id")
    headers = [
        (name, value) for name, value in response.headers.multi_items() if name not in PER_ANSWER
    ]
    return response.status_code, headers, response.content
