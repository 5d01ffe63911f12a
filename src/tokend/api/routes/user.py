"""The authenticated user."""

from fastapi import APIRouter, Request, Response

from tokend.api.bearer import BEARER_SECURITY
from tokend.api.convert import auth_user
from tokend.api.dependencies import get_principal
from tokend.api.routes.responses import errors
from tokend.models import UserResponse

router = APIRouter(tags=["User"])


@router.get(
    "/v2/user",
    response_model=UserResponse,
    responses=errors(400, 401),
    summary="Get the user of the calling token",
    openapi_extra=BEARER_SECURITY,
)
async def get_user(request: Request) -> Response:
    # The hottest endpoint (services call it to check a token), so it pays for no
    # dependency resolution: authenticated inline, and answered on the event loop.
    principal = await get_principal(request)
    # The model serialised here, once: returned as a model, FastAPI would validate it
    # against response_model again, which the hottest endpoint need not pay for.
    body = UserResponse(user=auth_user(principal.user)).model_dump_json(by_alias=True)
    return Response(body, media_type="application/json")
