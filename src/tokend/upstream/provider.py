"""`OidcProvider`, the `IdentityProvider` port over HTTP: Authlib builds the
authorization request and trades the code (with the PKCE verifier); joserfc verifies
the id_token against the provider's published keys."""

import logging
import warnings

import httpx
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client.errors import OAuthError
from joserfc.errors import JoseError

from tokend.domain.upstream import ProviderRejected, ProviderUnavailable, VerifiedClaims
from tokend.upstream.discovery import TIMEOUT_S, ProviderDocuments
from tokend.upstream.id_token import UnknownSigningKey, verify_id_token

with warnings.catch_warnings():
    # Authlib 1.9 prefers the httpx2 fork and warns when it falls back to httpx, which
    # it still supports and tokend already uses everywhere else.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

log = logging.getLogger("tokend.upstream")


class OidcProvider:
    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        scopes: str,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.issuer = issuer
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._scopes = scopes
        self._timeout_s = timeout_s
        self._documents = ProviderDocuments(
            issuer, httpx.Client(timeout=timeout_s, follow_redirects=False)
        )

    def __repr__(self) -> str:
        return f"OidcProvider(issuer={self.issuer!r}, client_id={self._client_id!r})"

    def _client(self, auth_method: str = "client_secret_basic") -> OAuth2Client:
        return OAuth2Client(
            client_id=self._client_id,
            client_secret=self._client_secret,
            scope=self._scopes,
            redirect_uri=self._redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method=auth_method,
            timeout=self._timeout_s,
            follow_redirects=False,
        )

    def authorization_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        endpoint = self._documents.metadata().authorization_endpoint
        with self._client() as client:
            url, _ = client.create_authorization_url(
                endpoint, state=state, code_verifier=code_verifier, nonce=nonce
            )
        return str(url)

    def verified_claims(self, *, code: str, code_verifier: str, nonce: str) -> VerifiedClaims:
        metadata = self._documents.metadata()
        methods = metadata.token_auth_methods
        # client_secret_basic unless the provider says it takes only the form body.
        basic = "client_secret_basic" in methods or "client_secret_post" not in methods
        try:
            with self._client("client_secret_basic" if basic else "client_secret_post") as client:
                token = client.fetch_token(
                    metadata.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                )
        except httpx.HTTPStatusError as exc:
            log.warning("identity provider's token endpoint answered %s", exc.response.status_code)
            raise ProviderUnavailable() from None
        except httpx.HTTPError as exc:
            log.warning("identity provider's token endpoint unreachable: %s", type(exc).__name__)
            raise ProviderUnavailable() from None
        except OAuthError as exc:
            # The provider's own error code, e.g. invalid_grant: no secret in it.
            log.warning("identity provider refused the code: %s", exc.error)
            raise ProviderRejected() from None
        except ValueError:
            log.warning("identity provider's token endpoint answered no JSON object")
            raise ProviderUnavailable() from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            log.warning("identity provider's token answer has no id_token (is openid a scope?)")
            raise ProviderRejected()
        return self._verify(id_token, nonce, metadata.algorithms)

    def _verify(self, id_token: str, nonce: str, algorithms: tuple[str, ...]) -> VerifiedClaims:
        for fresh in (False, True):
            try:
                return verify_id_token(
                    id_token,
                    self._documents.keys(fresh=fresh),
                    issuer=self.issuer,
                    client_id=self._client_id,
                    nonce=nonce,
                    algorithms=algorithms,
                )
            except UnknownSigningKey:
                continue
            except (JoseError, ValueError) as exc:
                # joserfc's message names the check that failed, never a claim's value.
                log.warning("identity provider's id_token refused: %s", exc)
                raise ProviderRejected() from None
        log.warning("identity provider's id_token is signed with a key not in its JWKS")
        raise ProviderRejected()
