"""Prometheus scrape endpoint; no token needed (keep it off the public network)."""

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from tokend.metrics import REQUEST_LATENCIES, exposition

router = APIRouter(tags=["Health"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
    summary="Metrics for Prometheus",
)
async def metrics() -> Response:
    # On the event loop, which owns the latencies not yet flushed; the files of the
    # other workers are read in a thread.
    REQUEST_LATENCIES.flush()
    body, content_type = await run_in_threadpool(exposition)
    return Response(body, media_type=content_type)
