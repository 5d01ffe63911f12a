"""The authenticated user."""

from functools import lru_cache

from fastapi import APIRouter, Request, Response

from tokend.api.bearer import BEARER_SECURITY
from tokend.api.convert import auth_user
from tokend.api.dependencies import get_principal
from tokend.api.routes.responses import errors
from tokend.domain.accounts import User
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
    return Response(_body(principal.user), media_type="application/json")


@lru_cache(maxsize=4096)
def _body(user: User) -> str:
    # Serialised once per user (users are immutable values): returned as a model,
    # FastAPI would validate it against response_model and encode it on every call.
    return UserResponse(user=auth_user(user)).model_dump_json(by_alias=True)
