"""tokend as an OpenID Connect provider: the authorization request and consent, and
the token endpoint's grants (authorization code, refresh token).

The protocol's rules live here and in `tokend.domain.oauth`; JOSE work (the id_token)
is joserfc's, through `SigningKeys`; the HTTP adapters (``/oauth/authorize`` in the
web pages, ``/v1/integrations/sso/token`` in the API) only read and write the wire.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from tokend.domain.accounts import User
from tokend.domain.audit import NOBODY, EventType, Requester
from tokend.domain.digest import Digester
from tokend.domain.integrations import Integration
from tokend.domain.oauth import (
    CODE_LIFETIME_MS,
    NONCE_MAX_LENGTH,
    STATE_MAX_LENGTH,
    AccessDenied,
    AuthorizationCode,
    ConsentRequired,
    Grant,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    LoginRequired,
    OAuthError,
    RefreshToken,
    RequestNotSupported,
    UnsupportedResponseType,
    check_code_challenge,
    new_code,
    new_code_id,
    new_grant_id,
    new_refresh_token,
    new_refresh_token_id,
    parse_scope,
    verifier_matches,
)
from tokend.domain.principal import Person
from tokend.domain.scopes import Scope
from tokend.domain.tokens import Origin
from tokend.service.audit import record, record_account
from tokend.service.clock import Clock, system_clock
from tokend.service.grants import revoke_grant
from tokend.service.integrations import IntegrationService
from tokend.service.ports import UnitOfWork, UnitOfWorkFactory
from tokend.service.signing import Signer, SigningKeys, SigningUnavailable
from tokend.service.tokens import IssuedToken, TokenService

ID_TOKEN_CLAIMS = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "email",
    "name",
    "preferred_username",
]
# A replayed code can only be told from a stale one while its row is kept.
KEEP_USED_CODES_MS = 24 * 3600_000


class Unredirectable(Exception):
    """An authorization request whose client or redirect URI cannot be trusted: the
    person is told on a page, and nothing is sent to the URI (RFC 6749 §4.1.2.1)."""


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    integration: Integration
    redirect_uri: str
    redirect_uri_sent: bool
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str | None

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    def redirect(self, params: Mapping[str, str], issuer: str) -> str:
        """The redirect URI with ``params``, ``state`` and ``iss`` (RFC 9207) added to
        whatever query it has."""
        answer = dict(params)
        if self.state is not None:
            answer["state"] = self.state
        answer["iss"] = issuer
        parts = urlsplit(self.redirect_uri)
        query = f"{parts.query}&{urlencode(answer)}" if parts.query else urlencode(answer)
        return urlunsplit(parts._replace(query=query))


class RedirectedError(Exception):
    """An error to send back to the client at its redirect URI."""

    def __init__(self, error: OAuthError, request: AuthorizationRequest) -> None:
        super().__init__(error.description)
        self.error = error
        self.request = request

    def location(self, issuer: str) -> str:
        params = {"error": self.error.code, "error_description": self.error.description}
        return self.request.redirect(params, issuer)


@dataclass(frozen=True, slots=True)
class TokenAnswer:
    access_token: str
    expires_in: int
    id_token: str
    scope: str
    refresh_token: str | None = None

    def __repr__(self) -> str:
        return f"TokenAnswer(scope={self.scope!r}, secrets='***')"


@dataclass(frozen=True, slots=True)
class ProviderPolicy:
    issuer: str
    access_token_ttl_s: int
    refresh_token_ttl_s: int
    id_token_ttl_s: int


@dataclass(frozen=True, slots=True)
class Provider:
    uow: UnitOfWorkFactory
    digester: Digester
    integrations: IntegrationService
    keys: SigningKeys
    tokens: TokenService
    policy: ProviderPolicy
    clock: Clock = system_clock

    # -- the authorization endpoint ------------------------------------------------

    def check_request(
        self, params: Mapping[str, str], *, signed_in: bool = True
    ) -> AuthorizationRequest:
        """The request an authorization URL makes (``signed_in``: whether a person is).
        Raises `Unredirectable` when the client or redirect URI is wrong, else
        `RedirectedError` for what the client got wrong (to be sent back to it)."""
        if not self.keys.enabled:
            raise SigningUnavailable()
        integration = self.integrations.by_client_id(params.get("client_id", ""))
        if integration is None:
            raise Unredirectable("The app that sent you here is not registered with tokend.")
        sent = params.get("redirect_uri")
        if sent is None and len(integration.redirect_uris) != 1:
            raise Unredirectable("The app did not say where to send you back (redirect_uri).")
        redirect_uri = sent if sent is not None else integration.redirect_uris[0]
        if not integration.allows(redirect_uri):
            raise Unredirectable(
                f"The app asked to send you back to an address not registered for "
                f"{integration.name}; nothing was sent there."
            )
        state = params.get("state")
        request = AuthorizationRequest(
            integration=integration,
            redirect_uri=redirect_uri,
            redirect_uri_sent=sent is not None,
            scope="openid",
            state=state if state is None or len(state) <= STATE_MAX_LENGTH else None,
            nonce=None,
            code_challenge=None,
        )
        try:
            if state is not None and len(state) > STATE_MAX_LENGTH:
                raise InvalidRequest(f"state must be at most {STATE_MAX_LENGTH} characters.")
            if params.get("response_type") != "code":
                raise UnsupportedResponseType("Only response_type=code is supported.")
            if "request" in params or "request_uri" in params:
                raise RequestNotSupported("Request objects are not supported.")
            nonce = params.get("nonce")
            if nonce is not None and len(nonce) > NONCE_MAX_LENGTH:
                raise InvalidRequest(f"nonce must be at most {NONCE_MAX_LENGTH} characters.")
            challenge = check_code_challenge(
                params.get("code_challenge"), params.get("code_challenge_method")
            )
            if params.get("prompt") == "none":
                if not signed_in:
                    raise LoginRequired("Nobody is signed in: prompt=none cannot be met.")
                # Consent is asked every time, so it can never be given without a page.
                raise ConsentRequired("The person must be asked: prompt=none cannot be met.")
            return AuthorizationRequest(
                integration=integration,
                redirect_uri=redirect_uri,
                redirect_uri_sent=sent is not None,
                scope=parse_scope(params.get("scope")),
                state=state,
                nonce=nonce,
                code_challenge=challenge,
            )
        except OAuthError as error:
            raise RedirectedError(error, request) from None

    def approve(
        self,
        person: Person,
        request: AuthorizationRequest,
        *,
        auth_time: int,
        requester: Requester = NOBODY,
    ) -> str:
        """The person allowed it: a code, sent back at the redirect URI."""
        code = new_code()
        now = self.clock()
        with self.uow(write=True) as uow:
            uow.oauth.prune_codes(now - KEEP_USED_CODES_MS)
            uow.oauth.add_code(
                AuthorizationCode(
                    id=new_code_id(),
                    digest=self.digester.digest(code),
                    integration_id=request.integration.id,
                    user_id=person.user.id,
                    redirect_uri=request.redirect_uri,
                    redirect_uri_sent=request.redirect_uri_sent,
                    scope=request.scope,
                    nonce=request.nonce,
                    code_challenge=request.code_challenge,
                    auth_time=auth_time,
                    created_at=now,
                    expires_at=now + CODE_LIFETIME_MS,
                )
            )
            record_account(
                uow, EventType.OAUTH_CONSENTED, now=now, user_id=person.user.id,
                requester=requester,
            )  # fmt: skip
            uow.commit()
        return request.redirect({"code": code}, self.policy.issuer)

    def deny(
        self, person: Person, request: AuthorizationRequest, requester: Requester = NOBODY
    ) -> str:
        with self.uow(write=True) as uow:
            record_account(
                uow, EventType.OAUTH_DENIED, now=self.clock(), user_id=person.user.id,
                requester=requester,
            )  # fmt: skip
            uow.commit()
        denied = AccessDenied("The person denied the request.")
        return RedirectedError(denied, request).location(self.policy.issuer)

    # -- the token endpoint ----------------------------------------------------------

    def exchange_code(
        self,
        client: Integration,
        code: str,
        *,
        redirect_uri: str | None = None,
        code_verifier: str | None = None,
        requester: Requester = NOBODY,
    ) -> TokenAnswer:
        """The authorization_code grant. A code works once: a second use fails and
        revokes everything the first issued (RFC 6749 §4.1.2)."""
        if not code or len(code) > 200:
            raise InvalidGrant("The code is not valid.")
        digest = self.digester.digest(code)
        signer = self.keys.current()
        for _ in range(2):  # a second pass only after losing a race for the code
            now = self.clock()
            with self.uow(write=True) as uow:
                found = uow.oauth.code_by_digest(digest)
                if found is None or found.integration_id != client.id:
                    raise InvalidGrant("The code is not valid.")
                if found.used_at is not None:
                    self._end_grant(
                        uow, found.grant_id, EventType.OAUTH_CODE_REUSED, found.user_id, requester
                    )
                    raise InvalidGrant(
                        "The code was used already; the tokens issued for it are revoked."
                    )
                self._check_code(found, now, redirect_uri, code_verifier)
                user = _user(uow, found.user_id)
                grant = Grant(
                    id=new_grant_id(),
                    integration_id=client.id,
                    user_id=user.id,
                    scope=found.scope,
                    auth_time=found.auth_time,
                    created_at=now,
                )
                if not uow.oauth.use_code(found.id, now, grant.id):
                    continue  # used a moment ago: the next pass revokes what it issued
                uow.oauth.add_grant(grant)
                answer = self._issue(uow, signer, client, user, grant, found.nonce, requester)
                record_account(
                    uow, EventType.OAUTH_CODE_EXCHANGED, now=now, user_id=user.id,
                    requester=requester,
                )  # fmt: skip
                uow.commit()
                return answer
        raise InvalidGrant("The code is not valid.")

    def refresh(
        self,
        client: Integration,
        refresh_token: str,
        *,
        scope: str | None = None,
        requester: Requester = NOBODY,
    ) -> TokenAnswer:
        """The refresh_token grant: a new access token and a new refresh token. An old
        refresh token used again means one was copied: the whole grant is revoked."""
        if not refresh_token or len(refresh_token) > 200:
            raise InvalidGrant("The refresh token is not valid.")
        digest = self.digester.digest(refresh_token)
        signer = self.keys.current()
        for _ in range(2):
            now = self.clock()
            with self.uow(write=True) as uow:
                found = uow.oauth.refresh_token_by_digest(digest)
                grant = uow.oauth.get_grant(found.grant_id) if found else None
                if found is None or grant is None or grant.integration_id != client.id:
                    raise InvalidGrant("The refresh token is not valid.")
                if grant.revoked_at is not None:
                    raise InvalidGrant("The refresh token was revoked.")
                if found.used_at is not None or uow.oauth.grant_token_revoked(grant.id):
                    # A replay, or the person revoked the app's token: either way the
                    # grant ends here.
                    replayed = found.used_at is not None
                    event = EventType.OAUTH_REFRESH_REUSED if replayed else None
                    self._end_grant(uow, grant.id, event, grant.user_id, requester)
                    raise InvalidGrant(
                        "The refresh token was used already; the tokens issued for it are revoked."
                        if replayed
                        else "The person revoked this app's access."
                    )
                if now >= found.expires_at:
                    raise InvalidGrant("The refresh token has expired; sign the person in again.")
                if scope is not None and not set(scope.split()) <= set(grant.scope.split()):
                    raise InvalidScope("A refresh cannot widen the scope the person allowed.")
                user = _user(uow, grant.user_id)
                if not uow.oauth.use_refresh_token(found.id, now):
                    continue  # refreshed a moment ago: the next pass treats this as a replay
                answer = self._issue(uow, signer, client, user, grant, None, requester)
                record_account(
                    uow, EventType.OAUTH_REFRESHED, now=now, user_id=user.id, requester=requester
                )
                uow.commit()
                return answer
        raise InvalidGrant("The refresh token is not valid.")

    def user_claims(self, user: User) -> dict[str, Any]:
        """The userinfo endpoint's answer (OpenID Connect Core §5.3)."""
        return {"sub": user.id, **_profile(user)}

    def discovery(self) -> dict[str, Any]:
        issuer = self.policy.issuer
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/oauth/authorize",
            "token_endpoint": f"{issuer}/v1/integrations/sso/token",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "userinfo_endpoint": f"{issuer}/oauth/userinfo",
            "device_authorization_endpoint": f"{issuer}/v1/oauth/device/code",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": [
                "authorization_code",
                "refresh_token",
                "urn:ietf:params:oauth:grant-type:device_code",
            ],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile", "offline_access"],
            "claims_supported": [*ID_TOKEN_CLAIMS],
            "authorization_response_iss_parameter_supported": True,
        }

    # -- inside -------------------------------------------------------------------------

    def _check_code(
        self,
        code: AuthorizationCode,
        now: int,
        redirect_uri: str | None,
        code_verifier: str | None,
    ) -> None:
        if code.is_expired(now):
            raise InvalidGrant("The code has expired (codes live 60 seconds).")
        if (code.redirect_uri_sent or redirect_uri is not None) and (
            redirect_uri != code.redirect_uri
        ):
            raise InvalidGrant("redirect_uri does not match the one the code was issued for.")
        if code.code_challenge is None:
            if code_verifier is not None:
                # RFC 9700 §2.1.1: a verifier for a code without a challenge is an attack.
                raise InvalidGrant("code_verifier was sent, but no code_challenge was.")
        elif code_verifier is None:
            raise InvalidGrant("code_verifier is required: the code was issued with PKCE.")
        elif not verifier_matches(code_verifier, code.code_challenge):
            raise InvalidGrant("code_verifier does not match the code_challenge.")

    def _issue(
        self,
        uow: UnitOfWork,
        signer: Signer,
        client: Integration,
        user: User,
        grant: Grant,
        nonce: str | None,
        requester: Requester,
    ) -> TokenAnswer:
        now = self.clock()
        ttl_s = self.policy.access_token_ttl_s
        issued: IssuedToken = self.tokens.issue(
            uow, user_id=user.id, name=client.name, scope=Scope.user(),
            expires_at=now + ttl_s * 1000, origin=Origin.APP,
        )  # fmt: skip
        uow.oauth.add_grant_token(grant.id, issued.token.id)
        record(
            uow, EventType.TOKEN_CREATED, now=now, token=issued.token, actor=None,
            requester=requester,
        )  # fmt: skip
        refresh = None
        if grant.offline:
            refresh = new_refresh_token()
            uow.oauth.add_refresh_token(
                RefreshToken(
                    id=new_refresh_token_id(),
                    digest=self.digester.digest(refresh),
                    grant_id=grant.id,
                    created_at=now,
                    expires_at=now + self.policy.refresh_token_ttl_s * 1000,
                )
            )
        claims: dict[str, Any] = {
            "iss": self.policy.issuer,
            "sub": user.id,
            "aud": client.client_id,
            "iat": now // 1000,
            "exp": now // 1000 + self.policy.id_token_ttl_s,
            "auth_time": grant.auth_time // 1000,
            **_profile(user),
        }
        if nonce is not None:
            claims["nonce"] = nonce
        # The lifecycle policy may have cut the token short of the setting's lifetime.
        expires_at = issued.token.expires_at
        expires_in = ttl_s if expires_at is None else max(0, (expires_at - now) // 1000)
        return TokenAnswer(
            access_token=issued.secret,
            expires_in=expires_in,
            id_token=signer.sign(claims),
            scope=grant.scope,
            refresh_token=refresh,
        )

    def _end_grant(
        self,
        uow: UnitOfWork,
        grant_id: str | None,
        event: EventType | None,
        user_id: str,
        requester: Requester,
    ) -> None:
        """Revoke the grant (if the code made one) and record why; commits, so that the
        revocation stands although the request fails."""
        now = self.clock()
        revoked = revoke_grant(uow, grant_id, now, requester) if grant_id else []
        if event is not None:
            record_account(uow, event, now=now, user_id=user_id, requester=requester)
        uow.commit()
        for token_id in revoked:
            self.tokens.revoked(token_id)


def _user(uow: UnitOfWork, user_id: str) -> User:
    user = uow.accounts.get_user(user_id)
    if user is None or user.is_service:
        raise InvalidGrant("The person this was issued to can no longer sign in.")
    return user


def _profile(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name or user.username,
        "preferred_username": user.username,
    }
