"""The caller's audit log."""

from typing import Annotated

from fastapi import APIRouter, Query

from tokend.api.dependencies import PrincipalDep, ServicesDep
from tokend.api.routes.responses import errors
from tokend.convert import audit_event
from tokend.domain.tokens import MAX_TIMESTAMP_MS
from tokend.models import EventPagination, ListEventsResponse
from tokend.service.audit import MAX_PAGE

router = APIRouter(tags=["Audit"])


@router.get(
    "/v1/user/events",
    response_model=ListEventsResponse,
    responses=errors(400, 401, 403),
    summary="List the audit events of the caller's tokens, newest first",
)
def list_events(
    principal: PrincipalDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    until: Annotated[int | None, Query(ge=0, le=MAX_TIMESTAMP_MS)] = None,
) -> ListEventsResponse:
    page = services.audit.list(principal, limit=limit, until=until)
    return ListEventsResponse(
        events=[audit_event(event) for event in page.events],
        pagination=EventPagination(count=len(page.events), next=page.next),
    )
