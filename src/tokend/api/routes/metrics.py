"""Prometheus scrape endpoint; no token needed (keep it off the public network)."""

from fastapi import APIRouter, Response

from tokend.metrics import exposition

router = APIRouter(tags=["Health"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
    summary="Metrics for Prometheus",
)
def metrics() -> Response:
    body, content_type = exposition()
    return Response(body, media_type=content_type)
