"""A delete that the server committed but answered 503 (a proxy's timeout, a database
that failed after the commit) is retried; the retry's 404 means the token is gone, as
asked, not that there was no such token. Real server, real proxy in front of it.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.client.conftest import Connect
from tests.conftest import Account
from tests.support import Server, serving
from tokend.client import NotFound, RetryPolicy

QUICK = RetryPolicy(attempts=3, backoff_s=0.0)
UNKNOWN_ID = "A" * 24  # well formed, never issued


@dataclass
class Proxy:
    url: str
    failing_deletes: int = 0  # how many DELETEs to forward, then answer 503
    deletes_seen: int = 0


@pytest.fixture
def proxy(server: Server) -> Iterator[Proxy]:
    """A real HTTP proxy in front of the test server."""
    state = Proxy(url="")

    async def forward(request: Request) -> Response:
        kept = ("authorization", "content-type", "user-agent", "accept")
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as upstream:
            answer = await upstream.request(
                request.method,
                request.url.path,
                params=str(request.query_params),
                headers={k: v for k, v in request.headers.items() if k in kept},
                content=await request.body(),
            )
        if request.method == "DELETE":
            state.deletes_seen += 1
            if state.failing_deletes > 0:
                state.failing_deletes -= 1  # forwarded (and committed), but the answer is lost
                body = {"error": {"code": "service_unavailable", "message": "Try again."}}
                return JSONResponse(body, status_code=503, headers={"Retry-After": "0"})
        return Response(
            answer.content,
            answer.status_code,
            media_type=answer.headers.get("content-type"),
        )

    methods = ["GET", "POST", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", forward, methods=methods)])
    with serving(app) as url:
        state.url = url
        yield state


def test_a_committed_delete_answered_503_is_a_success(
    server: Server, proxy: Proxy, alice: Account, connect: Connect
) -> None:
    client = connect(base_url=proxy.url, token=alice.token, retry=QUICK)
    made = client.tokens.create("flaky").token.id
    proxy.failing_deletes = 1

    assert client.tokens.delete(made) == made

    assert proxy.deletes_seen == 2  # the first revoked it; the retry found it gone (404)
    direct = connect(base_url=server.url, token=alice.token)
    with pytest.raises(NotFound):
        direct.tokens.get(made)


def test_a_delete_whose_first_answer_is_404_still_raises(
    proxy: Proxy, alice: Account, connect: Connect
) -> None:
    client = connect(base_url=proxy.url, token=alice.token, retry=QUICK)
    with pytest.raises(NotFound):
        client.tokens.delete(UNKNOWN_ID)
    assert proxy.deletes_seen == 1


def test_reads_still_report_404_after_a_retry(
    proxy: Proxy, alice: Account, connect: Connect
) -> None:
    # Only deletes have a goal that "not found" fulfils.
    client = connect(base_url=proxy.url, token=alice.token, retry=QUICK)
    with pytest.raises(NotFound):
        client.tokens.get(UNKNOWN_ID)
