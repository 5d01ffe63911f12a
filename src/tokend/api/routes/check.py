"""The gateway check, ``GET /v1/auth/check`` (any method): nginx ``auth_request``,
Traefik ``forwardAuth`` and Envoy ``ext_authz`` ask it whether a request may pass.

The answer is in the status and the headers: 200 with the token's identity in
``X-Tokend-*`` headers (which the proxy copies onto the request it forwards), 401 /
429 as on every endpoint, 403 when a ``?permission=`` asked for is not held. Like
``GET /v2/user``, a cached token is answered by `shortcut` before routing
(tokend.api.shortcuts), with the same bytes as the route here.
"""

from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope, Send

from tokend.api.bearer import BEARER_SECURITY
from tokend.api.dependencies import get_principal
from tokend.api.routes.responses import errors
from tokend.api.routes.user import authorization
from tokend.bootstrap import Services
from tokend.domain.errors import Forbidden, ValidationFailed
from tokend.domain.permissions import (
    MAX_PER_TOKEN,
    NAME_MAX_LENGTH,
    NAME_PATTERN,
    as_scope,
    ensure_holds,
    validate_name,
)
from tokend.domain.principal import Principal
from tokend.http.errors import error_response

PATH = "/v1/auth/check"
# Envoy's ext_authz appends the original request's path (and query) to the one it is
# given: any path below the check's is the check.
BELOW = PATH + "/"
PARAMETER = "permission"

Headers = Sequence[tuple[bytes, bytes]]
Answer = tuple[int, Headers, bytes]

router = APIRouter(tags=["Gateway"])

_IDENTITY_HEADERS = {
    "X-Tokend-User-Id": "The token's user id.",
    "X-Tokend-Username": "The token's username.",
    "X-Tokend-Token-Id": "The token's id.",
    "X-Tokend-Team-Id": "The token's team id; present but empty for a personal token.",
    "X-Tokend-Permissions": "The token's permissions, space-separated; `*` when it is "
    "unrestricted (introspection's `scope`).",
}


@router.get(
    PATH,
    response_class=Response,
    responses={
        200: {
            "description": "A live token (holding every permission asked for). Empty body.",
            "headers": {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in _IDENTITY_HEADERS.items()
            },
            "content": None,
        },
        **errors(400, 401, 403, 429),
    },
    summary="Check a token for a reverse proxy (any method)",
    description="For nginx `auth_request`, Traefik `forwardAuth` and Envoy `ext_authz`: "
    "every method answers alike (proxies forward the original one). 200 with the token's "
    "identity in `X-Tokend-*` headers; 401 without a live token; 403 when it lacks a "
    "permission named by `?permission=` (repeat it: each one is required); 400 for a "
    "malformed or unknown permission name, or any other query parameter. A path below "
    "it (`/v1/auth/check/...`, as Envoy sends) is the same check; its query string is the "
    "original request's and is ignored unless it names a permission.",
    openapi_extra={
        **BEARER_SECURITY,
        "parameters": [
            {
                "name": PARAMETER,
                "in": "query",
                "required": False,
                "description": "A permission the token must hold; repeatable (all required).",
                "schema": {
                    "type": "array",
                    "maxItems": MAX_PER_TOKEN,
                    "items": {
                        "type": "string",
                        "pattern": f"^{NAME_PATTERN}$",
                        "maxLength": NAME_MAX_LENGTH,
                    },
                },
                "style": "form",
                "explode": True,
            }
        ],
    },
)
async def check(request: Request) -> Response:
    principal = await get_principal(request)  # 401 / 429 first: no catalogue probing
    services: Services = request.app.state.services
    names = wanted(request.scope["query_string"])
    asked = _to_look_up(principal, names)
    if not services.permissions.known_now(asked):
        # A name not read lately: the catalogue is read, in a thread.
        await run_in_threadpool(services.permissions.ensure_known, asked)
    return _Raw(*decide(principal, names))


def _to_look_up(principal: Principal, names: frozenset[str]) -> frozenset[str]:
    # A name the token holds is one its resource server checks, even if it has left
    # the catalogue since (tokens keep their permissions): only the others are looked
    # up, so a typo is refused (400) rather than quietly failing every token (403).
    held = principal.permissions
    return names if held is None or not names else names - held


def as_check(scope: Scope) -> Scope:
    """The check's own scope for a request of any method to the check or a path below
    it. Below it, the query string is the original request's, the client's: it is
    ignored unless it names a permission (then read as usual, so that a proxy
    configured with ``/v1/auth/check/?permission=`` is not silently let through; a
    client adding one can only have itself refused)."""
    checked = {**scope, "method": "GET", "path": PATH}
    if scope["path"] != PATH and not _names_a_permission(scope.get("query_string", b"")):
        checked["query_string"] = b""
    return checked


def _names_a_permission(query: bytes) -> bool:
    # Decoded as `wanted` decodes it (the request head bounds its length).
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return any(key == PARAMETER for key, _ in pairs)


def wanted(query: bytes) -> frozenset[str]:
    """The permissions a query string asks for; ValidationFailed for anything else in
    it. Strict on purpose: a misspelt ``?permisson=`` ignored would let every token by."""
    if not query:
        return frozenset()
    try:
        pairs = parse_qsl(
            query.decode("latin-1"), keep_blank_values=True, max_num_fields=MAX_PER_TOKEN
        )
    except ValueError:  # more fields than max_num_fields
        raise ValidationFailed(
            f"At most {MAX_PER_TOKEN} permissions can be checked at once."
        ) from None
    names = []
    for key, value in pairs:
        if key != PARAMETER:
            # The name sent is not echoed: it may be anything at all.
            raise ValidationFailed(
                f"The only query parameter is '{PARAMETER}' (repeat it: each one is required)."
            )
        try:
            names.append(validate_name(value))
        except ValidationFailed:
            # Said without the value: a secret pasted into a URL must not come back.
            raise ValidationFailed(
                f"A '{PARAMETER}' is not a permission name: lower-case letters, digits and "
                f". _ - in parts joined by ':' (deployments:read), at most {NAME_MAX_LENGTH} "
                "characters."
            ) from None
    return frozenset(names)


def decide(principal: Principal, names: frozenset[str]) -> Answer:
    """Status, headers and body for a live token: shared by the route and the shortcut,
    so that both answer the same bytes."""
    try:
        ensure_holds(principal.permissions, names)
    except Forbidden as refused:
        response = error_response(403, "forbidden", str(refused))
        return 403, response.raw_headers, bytes(response.body)
    return 200, _identity(principal), b""


@lru_cache(maxsize=4096)
def _identity(principal: Principal) -> Headers:
    # Built once per principal (an immutable value), as GET /v2/user's body is.
    user, token = principal.user, principal.token
    return (
        (b"content-length", b"0"),
        # The answer is about this request's token only: no cache may keep it.
        (b"cache-control", b"no-store"),
        (b"x-tokend-user-id", _header_value(user.id)),
        (b"x-tokend-username", _header_value(user.username)),
        (b"x-tokend-token-id", _header_value(token.id)),
        # Empty rather than absent: a proxy that copies the check's headers onto the
        # forwarded request then overwrites a client-sent one for a personal token too.
        (b"x-tokend-team-id", _header_value(token.team_id or "")),
        (b"x-tokend-permissions", _header_value(as_scope(token.permissions))),
    )


def _header_value(text: str) -> bytes:
    # Ids, usernames and permission names are all printable ASCII by construction;
    # anything else (a row written by some other tool) is percent-encoded, so that no
    # CR or LF can ever split a header.
    if text.isascii() and text.isprintable():
        return text.encode("ascii")
    return quote(text, safe="").encode("ascii")


class _Raw(Response):
    """A response of ready-made status, headers and body."""

    def __init__(self, status: int, headers: Headers, body: bytes) -> None:
        self.status_code = status
        self.body = body
        self.background = None
        self.raw_headers = list(headers)


async def shortcut(scope: Scope, send: Send) -> bool:
    """Answer a check whose token is a plain cache hit and whose permissions are all
    known already; True when answered. Anything else is the route's."""
    services: Services = scope["app"].state.services
    principal = services.authenticator.hit(authorization(scope))
    if principal is None:
        return False
    query = scope["query_string"]
    if not query:  # most checks ask for no permission: decide's answer, directly
        status, headers, body = 200, _identity(principal), b""
    else:
        try:
            names = wanted(query)
        except ValidationFailed:
            return False
        if not services.permissions.known_now(_to_look_up(principal, names)):
            return False
        status, headers, body = decide(principal, names)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return True
