"""The authenticated user: ``GET /v2/user``, and its shortcut for cached tokens.

Services call this endpoint to check a token, so most requests carry a token the
process has seen moments ago. `shortcut` answers those at the ASGI level, before
routing (tokend.api.shortcuts); everything else (no token, a bad one, a cache miss,
an expiry or activeAt write due) goes on to the route, which has the one set of rules
for them.
"""

from functools import lru_cache

from fastapi import APIRouter, Request, Response
from starlette.types import Scope, Send

from tokend.api.bearer import BEARER_SECURITY
from tokend.api.dependencies import get_principal
from tokend.api.routes.responses import errors
from tokend.bootstrap import Services
from tokend.convert import auth_user
from tokend.domain.accounts import User
from tokend.domain.permissions import Operation
from tokend.http.bearer import bearer_secret
from tokend.models import UserResponse

PATH = "/v2/user"
MEDIA_TYPE = "application/json"

router = APIRouter(tags=["User"])


@router.get(
    PATH,
    response_model=UserResponse,
    responses=errors(400, 401, 429),
    summary="Get the user of the calling token",
    openapi_extra=BEARER_SECURITY,
)
async def get_user(request: Request) -> Response:
    # No dependency resolution, answered on the event loop: see dependencies.py.
    principal = await get_principal(request)
    principal.ensure_allowed(Operation.READ_USER)
    return Response(_body(principal.user), media_type=MEDIA_TYPE)


@lru_cache(maxsize=4096)
def _body(user: User) -> bytes:
    # Serialised once per user (users are immutable values): returned as a model,
    # FastAPI would validate it against response_model and encode it on every call.
    return UserResponse(user=auth_user(user)).model_dump_json(by_alias=True).encode()


async def shortcut(scope: Scope, send: Send) -> bool:
    """Answer a ``GET /v2/user`` with a plain cache hit and return True; else False,
    and the route answers. The answer is byte for byte the route's."""
    services: Services = scope["app"].state.services
    principal = services.authenticator.hit(authorization(scope))
    # A live token is never rate-limited (SPEC §7): a hit needs no other check,
    # but a restricted token's permissions are checked by the route.
    if principal is None or principal.token.permissions is not None:
        return False
    body = _body(principal.user)
    headers = [
        (b"content-length", str(len(body)).encode()),
        (b"content-type", MEDIA_TYPE.encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return True


def authorization(scope: Scope) -> str | None:
    """The bearer secret of the first Authorization header, decoded as Starlette's
    Request.headers does."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return bearer_secret(value.decode("latin-1"))
    return None
