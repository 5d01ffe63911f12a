"""Liveness and readiness probes; no token needed."""

from fastapi import APIRouter
from sqlalchemy import text

from tokend.api.dependencies import ServicesDep
from tokend.api.routes.responses import errors
from tokend.models import Status

router = APIRouter(tags=["Health"])


# HEAD too: load balancers often probe with it.
@router.api_route(
    "/healthz", methods=["GET", "HEAD"], response_model=Status, summary="The process is up"
)
async def healthz() -> Status:
    return Status()


@router.api_route(
    "/readyz",
    methods=["GET", "HEAD"],
    response_model=Status,
    responses=errors(),
    summary="The database answers",
)
def readyz(services: ServicesDep) -> Status:
    with services.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return Status()
