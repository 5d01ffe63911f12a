"""The wire format: the JSON bodies of the HTTP API, shared by server and clients.

Only pydantic is imported here, so a client can use these models without the
server's dependencies. Optional fields are omitted from the JSON, never sent as
``null``, as the Vercel API does.

Instants are integers on the wire (milliseconds since the epoch, as Vercel sends
them) and in the ``*_at`` fields; each also has a ``*_at_datetime`` property, the
same instant as an aware UTC `datetime`, for Python callers.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Protocol, overload

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_serializer,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema
from pydantic_core.core_schema import SerializerFunctionWrapHandler

from tokend.domain.audit import EventType
from tokend.domain.tokens import MAX_OVERLAP_MS, MAX_TIMESTAMP_MS
from tokend.domain.webhooks import EVENT_TYPES

Timestamp = Annotated[int, Field(ge=0, description="Milliseconds since the epoch.")]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@overload
def to_datetime(ms: int) -> datetime: ...
@overload
def to_datetime(ms: None) -> None: ...
def to_datetime(ms: int | None) -> datetime | None:
    """Milliseconds since the epoch as an aware UTC datetime (exactly: no float)."""
    return None if ms is None else _EPOCH + timedelta(milliseconds=ms)


_CAMEL_CASE = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class WireModel(BaseModel):
    """snake_case in Python, camelCase on the wire, as the Vercel API spells it."""

    model_config = _CAMEL_CASE


class _OmitNone(BaseModel):
    """A model whose unset optional fields are left out of the JSON."""

    # Unannotated return on purpose: pydantic then documents the model's own fields
    # in the OpenAPI schema instead of a bare "object".
    @model_serializer(mode="wrap")
    def _omit_none(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        return {key: value for key, value in handler(self).items() if value is not None}


class _Omitting(_OmitNone):
    model_config = _CAMEL_CASE


class _Timed(Protocol):
    created_at: int
    expires_at: int | None


class _Lifetime:
    """``created_at`` and ``expires_at`` as datetimes, for the models that have both."""

    @property
    def created_at_datetime(self: _Timed) -> datetime:
        return to_datetime(self.created_at)

    @property
    def expires_at_datetime(self: _Timed) -> datetime | None:
        """When it stops working; None: never."""
        return to_datetime(self.expires_at)


class UserScope(_Lifetime, _Omitting):
    type: Literal["user"] = "user"
    origin: str | SkipJsonSchema[None] = None
    created_at: Timestamp
    expires_at: Timestamp | SkipJsonSchema[None] = None


class TeamScope(_Lifetime, _Omitting):
    type: Literal["team"] = "team"
    team_id: str
    origin: str | SkipJsonSchema[None] = None
    created_at: Timestamp
    expires_at: Timestamp | SkipJsonSchema[None] = None


Scope = Annotated[UserScope | TeamScope, Field(discriminator="type")]


class AuthToken(_Lifetime, _Omitting):
    """A token's metadata. The secret is never part of it."""

    id: str
    name: str
    type: str = "oauth2-token"
    prefix: str | SkipJsonSchema[None] = None
    suffix: str | SkipJsonSchema[None] = None
    origin: str | SkipJsonSchema[None] = None
    scopes: list[Scope] | SkipJsonSchema[None] = None
    created_at: Timestamp
    active_at: Timestamp
    expires_at: Timestamp | SkipJsonSchema[None] = None
    revoked_at: Timestamp | SkipJsonSchema[None] = None
    leaked_at: Timestamp | SkipJsonSchema[None] = None
    leaked_url: str | SkipJsonSchema[None] = None
    # tokend's own (lifecycle policy): only where an inactivity limit applies, so a
    # token under no such policy looks exactly as Vercel's clients expect.
    inactivity_expires_at: Timestamp | SkipJsonSchema[None] = Field(
        default=None,
        description="Where an inactivity limit applies: when the token stops working "
        "unless used before (activeAt + the limit). In the past: expired by disuse.",
    )
    permissions: list[str] | SkipJsonSchema[None] = Field(
        default=None,
        description="A restricted token's permissions: all it may do. Absent: unrestricted.",
    )

    @property
    def active_at_datetime(self) -> datetime:
        """When it was last used."""
        return to_datetime(self.active_at)

    @property
    def revoked_at_datetime(self) -> datetime | None:
        return to_datetime(self.revoked_at)

    @property
    def leaked_at_datetime(self) -> datetime | None:
        return to_datetime(self.leaked_at)


# Documented in the schema only: the domain checks these and words the errors.
# The class is Unicode's Cc category, which tokend.domain.text refuses.
_CONTROL = "\\x00-\\x1f\\x7f-\\x9f"
_NO_CONTROL_CHARACTERS: dict[str, Any] = {"pattern": f"^[^{_CONTROL}]*$"}
# Not blank: one non-space somewhere. Written without a lookahead, which generators
# of test data (schemathesis, hypothesis) can only meet by filtering, for half a minute.
_NAME: dict[str, Any] = {"pattern": f"^[^{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*$"}


def _integral_float_to_int(value: object) -> object:
    # JSON has one number type: 1700000000000.0 is the same instant as 1700000000000.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Milliseconds = Annotated[StrictInt, BeforeValidator(_integral_float_to_int)]


class CreateTokenRequest(WireModel):
    # The wire names only: "expires_at" is an unknown field, ignored like any other,
    # not a second spelling of expiresAt (the document could not say so).
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=False)

    name: StrictStr = Field(min_length=1, max_length=100, json_schema_extra=_NAME)
    expires_at: Milliseconds | None = Field(
        default=None,
        description="When the token stops working, ms since the epoch; must be in the future.",
        json_schema_extra={"exclusiveMinimum": 0, "maximum": MAX_TIMESTAMP_MS},
    )
    project_id: StrictStr | None = Field(
        default=None, min_length=1, max_length=256, json_schema_extra=_NO_CONTROL_CHARACTERS
    )
    permissions: list[StrictStr] | None = Field(
        default=None,
        max_length=50,
        description="Restrict the token to these permissions (tokend's own, such as "
        "`tokens:read`, and the instance's catalogue). Absent: unrestricted. A restricted "
        "caller may only grant a subset of its own.",
    )


class RotateTokenRequest(WireModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=False)

    overlap_ms: Milliseconds | None = Field(
        default=None,
        description="Keep the old token working this many ms more (1 to 86400000, 24 hours) "
        "instead of revoking it: its expiresAt becomes now + overlapMs, unless sooner already.",
        json_schema_extra={"exclusiveMinimum": 0, "maximum": MAX_OVERLAP_MS},
    )


class CreateTokenResponse(WireModel):
    token: AuthToken
    # repr=False: a logged or printed response must not show the secret.
    bearer_token: str = Field(description="The secret. Shown only in this response.", repr=False)


class Pagination(WireModel):
    count: int = Field(description="Number of tokens in this page.")
    next: int | None = Field(description="Pass as `until` for the next, older page.")
    prev: int | None = Field(description="Pass as `since` for the previous, newer page.")


class ListTokensResponse(WireModel):
    tokens: list[AuthToken]
    pagination: Pagination


class GetTokenResponse(WireModel):
    token: AuthToken


class DeleteTokenResponse(WireModel):
    token_id: str


_EVENT_TYPES = (
    "What happened, one of: "
    + ", ".join(f"`{event}`" for event in EventType)
    + ". `token.*`: a token made, revoked, rotated, reported leaked, near its expiry "
    "(`token.expiring`, once per TOKEND_EXPIRY_WARNINGS threshold) or expired; `auth.*`: sign-ins "
    "to the web pages and their sessions, and `auth.rate_limited`, a token refused because "
    "of its address; `account.*`: passwords and invitations; `device.*`: a device login "
    "(`tokend login --web`) approved or denied; `webhook.disabled`: a webhook whose "
    "deliveries kept failing (TOKEND_WEBHOOK_DISABLE_AFTER) was disabled."
)


class AuditEvent(_Omitting):
    id: str
    type: str = Field(description=_EVENT_TYPES)
    created_at: Timestamp
    token_id: str | SkipJsonSchema[None] = None
    token: AuthToken | SkipJsonSchema[None] = Field(
        default=None, description="The token's metadata right after the event."
    )
    actor_token_id: str | SkipJsonSchema[None] = Field(
        default=None, description="The token that made the request, if one did."
    )
    ip: str | SkipJsonSchema[None] = None
    user_agent: str | SkipJsonSchema[None] = None

    @property
    def created_at_datetime(self) -> datetime:
        return to_datetime(self.created_at)


class EventPagination(WireModel):
    count: int = Field(description="Number of events in this page.")
    next: int | None = Field(description="Pass as `until` for the next, older page.")


class ListEventsResponse(WireModel):
    events: list[AuditEvent]
    pagination: EventPagination


class Introspection(_OmitNone):
    """RFC 7662's answer (its own snake_case names). For anything not live, exactly
    ``{"active": false}``."""

    active: bool
    sub: str | SkipJsonSchema[None] = Field(default=None, description="The user id.")
    username: str | SkipJsonSchema[None] = None
    token_type: str | SkipJsonSchema[None] = None
    jti: str | SkipJsonSchema[None] = Field(default=None, description="The token id.")
    iat: int | SkipJsonSchema[None] = Field(default=None, description="Created, in seconds.")
    exp: int | SkipJsonSchema[None] = Field(default=None, description="Expiry, in seconds.")
    scope: str | SkipJsonSchema[None] = Field(
        default=None,
        description="The token's permissions, space-separated; `*` when it is unrestricted.",
    )
    team_id: str | SkipJsonSchema[None] = None
    project_id: str | SkipJsonSchema[None] = None


class LeakReport(BaseModel):
    """One finding of GitHub secret scanning (its own field names)."""

    token: StrictStr = Field(repr=False)
    type: StrictStr
    url: StrictStr | None = None
    source: StrictStr | None = None


class LeakLabel(BaseModel):
    token_hash: str = Field(description="Hex SHA-256 of the reported string.")
    token_type: str
    label: Literal["true_positive", "false_positive"]


class AuthUser(WireModel):
    id: str
    email: str
    name: str | None
    username: str
    created_at: Timestamp
    # Present so that Vercel's clients recognise the object (their AuthUserLimited).
    avatar: None = None
    default_team_id: None = None
    limited: Literal[True] = True

    @property
    def created_at_datetime(self) -> datetime:
        return to_datetime(self.created_at)


class UserResponse(WireModel):
    user: AuthUser


class ErrorDetail(WireModel):
    code: str
    message: str


class ErrorResponse(WireModel):
    error: ErrorDetail


class RateLimit(WireModel):
    remaining: int = Field(description="Attempts left in the window: always 0 in a 429.")
    reset: int = Field(description="When the window ends, seconds since the epoch.")
    reset_ms: Timestamp = Field(description="When the window ends.")
    total: int = Field(description="Failed authentications allowed per window.")


class RateLimitedDetail(ErrorDetail):
    limit: RateLimit


class RateLimitedResponse(WireModel):
    error: RateLimitedDetail


# Device authorization (RFC 8628): OAuth's own snake_case names, form bodies in.

# Empty, or a name (RFC 6749 §3.1: a parameter sent without a value is one omitted).
_OPTIONAL_NAME: dict[str, Any] = {"pattern": f"^([^{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*)?$"}


class DeviceCodeRequest(BaseModel):
    """The form of ``POST /v1/oauth/device/code``."""

    client_id: StrictStr = Field(
        min_length=1,
        max_length=100,
        description="Who asks: any name of the program (tokend's CLI sends `tokend-cli`); "
        "sent again when polling.",
        json_schema_extra=_NAME,
    )
    scope: StrictStr | SkipJsonSchema[None] = Field(
        default=None,
        max_length=200,
        description="Kept with the request; tokend's tokens have no OAuth scopes.",
        json_schema_extra=_NO_CONTROL_CHARACTERS,
    )
    name: StrictStr | SkipJsonSchema[None] = Field(
        default=None,
        max_length=100,
        description="The new token's name, shown to the person who approves "
        '(default: "Device login").',
        json_schema_extra=_OPTIONAL_NAME,
    )


class DeviceCodeResponse(BaseModel):
    device_code: str = Field(
        description="The device's secret: send it to /v1/oauth/token until approved.",
        repr=False,
    )
    user_code: str = Field(description="What the person types at verification_uri: XXXX-XXXX.")
    verification_uri: str = Field(description="The page where the person approves.")
    verification_uri_complete: str = Field(description="The same page, the code filled in.")
    expires_in: int = Field(description="Seconds the codes live.")
    interval: int = Field(description="Seconds to wait between polls.")


DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class DeviceTokenRequest(BaseModel):
    """The form of ``POST /v1/oauth/token`` for the device flow."""

    grant_type: Literal["urn:ietf:params:oauth:grant-type:device_code"]
    device_code: StrictStr = Field(min_length=1)
    client_id: StrictStr = Field(
        min_length=1, description="The client_id the codes were asked with."
    )


class DeviceTokenResponse(_OmitNone):
    access_token: str = Field(description="A new tokend token of the person.", repr=False)
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int | SkipJsonSchema[None] = Field(
        default=None, description="Seconds until the token expires; absent when it does not."
    )


class SsoTokenRequest(BaseModel):
    """``POST /v1/integrations/sso/token``: as JSON (what `@vercel/sdk` sends) or as a
    form (what OAuth clients send). The client authenticates with client_id and
    client_secret here, or with HTTP Basic."""

    grant_type: Literal[
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
    ]
    code: StrictStr | SkipJsonSchema[None] = Field(
        default=None, description="authorization_code: the code from the redirect."
    )
    redirect_uri: StrictStr | SkipJsonSchema[None] = Field(
        default=None,
        description="authorization_code: required if the authorization request had one.",
    )
    code_verifier: StrictStr | SkipJsonSchema[None] = Field(
        default=None, description="authorization_code: the PKCE verifier, if a challenge was sent."
    )
    refresh_token: StrictStr | SkipJsonSchema[None] = Field(
        default=None, description="refresh_token: the latest refresh token."
    )
    scope: StrictStr | SkipJsonSchema[None] = Field(
        default=None, description="refresh_token: optional, within what was allowed."
    )
    device_code: StrictStr | SkipJsonSchema[None] = Field(
        default=None, description="The device code grant: the device_code."
    )
    client_id: StrictStr | SkipJsonSchema[None] = None
    client_secret: StrictStr | SkipJsonSchema[None] = None
    state: StrictStr | SkipJsonSchema[None] = Field(
        default=None, description="Accepted and ignored (`@vercel/sdk` may send it)."
    )


class SsoTokenResponse(_OmitNone):
    access_token: str = Field(
        description="A tokend token of the person, origin `app`, named after the integration.",
        repr=False,
    )
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds until the access token (and id_token) expire.")
    id_token: str = Field(description="OpenID Connect id_token, RS256, keys at jwks_uri.")
    refresh_token: str | SkipJsonSchema[None] = Field(
        default=None,
        description="With scope offline_access: use it once to get a new pair.",
        repr=False,
    )
    scope: str = Field(description="The scopes the person allowed.")


class UserInfo(BaseModel):
    """OpenID Connect userinfo (Core §5.3) of the access token's person."""

    sub: str = Field(description="The user id.")
    email: str
    name: str
    preferred_username: str


OAuthErrorCode = Literal[
    "invalid_request",
    "invalid_client",
    "invalid_scope",
    "unauthorized_client",
    "invalid_grant",
    "unsupported_grant_type",
    "authorization_pending",
    "slow_down",
    "access_denied",
    "expired_token",
]


class OAuthError(BaseModel):
    """An error of the OAuth endpoints, shaped as RFC 6749 §5.2 says (which OAuth
    clients parse), not as tokend's other errors."""

    error: OAuthErrorCode
    error_description: str


class Status(WireModel):
    status: Literal["ok"] = "ok"


# Webhooks (SPEC §12).
class CreateWebhookRequest(WireModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=False)

    url: StrictStr = Field(
        min_length=1,
        max_length=2048,
        description="https:// URL (a public address; plain http and private addresses "
        "only with TOKEND_WEBHOOK_ALLOW_PRIVATE=true).",
        json_schema_extra=_NO_CONTROL_CHARACTERS,
    )
    # Strings checked by the domain (which names the choices in its error); listed
    # here for the schema's enum, from the domain's one tuple.
    events: list[StrictStr] = Field(
        min_length=1,
        max_length=20,
        json_schema_extra={"items": {"type": "string", "enum": list(EVENT_TYPES)}},
    )


class UpdateWebhookRequest(WireModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=False)

    enabled: StrictBool = Field(
        description="false pauses the webhook (nothing new is queued for it; what is "
        "pending fails); true turns a disabled one back on, no longer failing. "
        "Deliveries that failed while it was off stay failed."
    )


class Webhook(_Omitting):
    id: str
    url: str
    events: list[str]
    team_id: str | SkipJsonSchema[None] = Field(
        default=None, description="The team whose tokens' events it receives."
    )
    created_at: Timestamp
    failing_since: Timestamp | SkipJsonSchema[None] = None
    disabled_at: Timestamp | SkipJsonSchema[None] = None


class CreateWebhookResponse(WireModel):
    webhook: Webhook
    secret: str = Field(description="The signing secret (whsec_…), shown only here.")


class ListWebhooksResponse(WireModel):
    webhooks: list[Webhook]


class GetWebhookResponse(WireModel):
    webhook: Webhook


class WebhookAttempt(_Omitting):
    attempted_at: Timestamp
    duration_ms: int
    status_code: int | SkipJsonSchema[None] = None
    error: str | SkipJsonSchema[None] = None


class WebhookDelivery(_Omitting):
    id: str = Field(description="The webhook-id header of every attempt.")
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    created_at: Timestamp
    attempts: list[WebhookAttempt]
    next_attempt_at: Timestamp | SkipJsonSchema[None] = None
    delivered_at: Timestamp | SkipJsonSchema[None] = None
    payload: dict[str, Any]


class ListWebhookDeliveriesResponse(WireModel):
    deliveries: list[WebhookDelivery]
