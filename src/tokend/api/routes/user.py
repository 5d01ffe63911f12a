"""The authenticated user."""

from fastapi import APIRouter

from tokend.api.convert import auth_user
from tokend.api.dependencies import PrincipalDep
from tokend.api.routes.responses import errors
from tokend.models import UserResponse

router = APIRouter(tags=["User"])


@router.get(
    "/v2/user",
    response_model=UserResponse,
    responses=errors(400, 401),
    summary="Get the user of the calling token",
)
async def get_user(principal: PrincipalDep) -> UserResponse:
    # async: nothing here blocks, so a cached principal is answered without a thread.
    return UserResponse(user=auth_user(principal.user))
