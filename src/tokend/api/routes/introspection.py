"""RFC 7662 token introspection, for resource servers holding a service token.

Resource servers in other languages call this on every request they serve, so, like
``GET /v2/user``, the common case (a cached service token asking about a cached
token) is answered by `shortcut` before routing, with the route's bytes; anything
else (a miss, a dead token, another body or content type) goes on to the route.
"""

import re
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Form, Response
from starlette.types import Message, Receive, Scope, Send

from tokend.api.dependencies import PrincipalDep, ServicesDep
from tokend.api.routes.responses import errors
from tokend.bootstrap import Services
from tokend.domain.permissions import as_scope
from tokend.domain.principal import Principal
from tokend.http.bearer import bearer_secret
from tokend.models import Introspection

PATH = "/v1/introspect"
MEDIA_TYPE = "application/json"
FORM_TYPE = b"application/x-www-form-urlencoded"

router = APIRouter(tags=["Introspection"])

BEARER = "Bearer"  # the OAuth 2.0 token type (RFC 6750) of every tokend token
# Longer than any secret; bounds what is hashed without saying what a secret looks like.
MAX_TOKEN_LENGTH = 4096
INACTIVE = Introspection(active=False).model_dump_json().encode()

# The one body the shortcut reads: a single `token` field needing no decoding (no %,
# +, & or ;), so that no form parser could read it as anything else. Every secret
# tokend makes fits (a prefix of [a-z0-9] and "_", then base62).
_PLAIN_FORM = re.compile(rb"token=([0-9A-Za-z_]{1,%d})" % MAX_TOKEN_LENGTH)
_MAX_PLAIN_FORM = len(b"token=") + MAX_TOKEN_LENGTH


@router.post(
    PATH,
    response_model=Introspection,
    responses=errors(400, 401, 403),
    summary="Introspect a token (RFC 7662)",
    description="For resource servers: authenticate with a service token (made by "
    "`tokend admin create-service`), send the token to check as the form field `token`. "
    'Anything not live answers exactly `{"active": false}`.',
)
def introspect(
    token: Annotated[str, Form(min_length=1, max_length=MAX_TOKEN_LENGTH)],
    principal: PrincipalDep,
    services: ServicesDep,
) -> Response:
    found = services.introspection.introspect(principal, token)
    return Response(INACTIVE if found is None else _body(found), media_type=MEDIA_TYPE)


@lru_cache(maxsize=4096)
def _body(found: Principal) -> bytes:
    # Serialised once per principal (an immutable value), as GET /v2/user's body is.
    token = found.token
    return (
        Introspection(
            active=True,
            sub=found.user.id,
            username=found.user.username,
            token_type=BEARER,
            jti=token.id,
            iat=token.created_at // 1000,
            exp=None if token.expires_at is None else token.expires_at // 1000,
            scope=as_scope(token.permissions),
            team_id=token.team_id,
            project_id=token.project_id,
        )
        .model_dump_json()
        .encode()
    )


async def shortcut(scope: Scope, receive: Receive, send: Send) -> Receive | None:
    """Answer a ``POST /v1/introspect`` of cached tokens and return None; else return
    the ``receive`` the route must use (replaying whatever body was read here)."""
    services: Services = scope["app"].state.services
    authorization = length = None
    content_type = b""
    for name, value in scope["headers"]:
        # The first of each, as Starlette's Request.headers reads them.
        if name == b"authorization" and authorization is None:
            authorization = value
        elif name == b"content-type" and not content_type:
            content_type = value
        elif name == b"content-length" and length is None:
            length = value
    # A declared length only (BodyLimitMiddleware has vetted it): a chunked body is
    # left to the route, so reading here never meets the size limit's error.
    if (
        authorization is None
        or length is None
        or not length.isdigit()
        or int(length) > _MAX_PLAIN_FORM
        or content_type.split(b";", 1)[0].strip().lower() != FORM_TYPE
    ):
        return receive
    caller = services.authenticator.hit(bearer_secret(authorization.decode("latin-1")))
    if caller is None or not caller.user.is_service:
        return receive  # the route refuses, counts or loads it
    messages: list[Message] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return _replay(messages, receive)
        body += message.get("body", b"")
        if len(body) > _MAX_PLAIN_FORM:
            return _replay(messages, receive)
        if not message.get("more_body", False):
            break
    plain = _PLAIN_FORM.fullmatch(body)
    found = None if plain is None else services.authenticator.hit(plain.group(1).decode())
    if found is None:
        return _replay(messages, receive)  # a miss, or a token not live: the route says
    answer = _body(found)
    headers = [
        (b"content-length", str(len(answer)).encode()),
        (b"content-type", MEDIA_TYPE.encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})
    return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives back the messages read already, then reads on."""
    pending = list(messages)

    async def replaying() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replaying
