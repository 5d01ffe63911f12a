"""Integration use cases: register an app that signs people in with tokend, list,
remove, and authenticate it at the token endpoint."""

from dataclasses import dataclass

from tokend.domain.audit import NOBODY, Requester
from tokend.domain.digest import Digester
from tokend.domain.errors import NotFound
from tokend.domain.integrations import (
    Integration,
    new_client_id,
    new_client_secret,
    new_integration_id,
    validate_integration_name,
    validate_redirect_uris,
)
from tokend.domain.oauth import InvalidClient
from tokend.service.clock import Clock, system_clock
from tokend.service.grants import revoke_grant
from tokend.service.ports import UnitOfWorkFactory
from tokend.service.tokens import TokenService


@dataclass(frozen=True, slots=True)
class NewIntegration:
    """A registered integration and its client secret, which exists only here."""

    integration: Integration
    client_secret: str

    def __repr__(self) -> str:
        return f"NewIntegration(integration={self.integration.id!r}, client_secret='***')"


@dataclass(frozen=True, slots=True)
class IntegrationService:
    uow: UnitOfWorkFactory
    digester: Digester
    tokens: TokenService
    clock: Clock = system_clock

    def create(self, name: str, *, redirect_uris: list[str]) -> NewIntegration:
        secret = new_client_secret()
        integration = Integration(
            id=new_integration_id(),
            client_id=new_client_id(),
            name=validate_integration_name(name),
            secret_digest=self.digester.digest(secret),
            redirect_uris=validate_redirect_uris(redirect_uris),
            created_at=self.clock(),
        )
        with self.uow(write=True) as uow:
            uow.integrations.add(integration)
            uow.commit()
        return NewIntegration(integration, secret)

    def list(self) -> list[Integration]:
        with self.uow() as uow:
            return uow.integrations.list()

    def remove(self, id_or_client_id: str, requester: Requester = NOBODY) -> Integration:
        """Remove the integration; every token it holds for people is revoked."""
        revoked: list[str] = []
        with self.uow(write=True) as uow:
            integration = uow.integrations.get(id_or_client_id) or uow.integrations.by_client_id(
                id_or_client_id
            )
            if integration is None:
                raise NotFound(f"No integration has the id or client id {id_or_client_id!r}.")
            for grant_id in uow.oauth.grant_ids_of(integration.id):
                revoked += revoke_grant(uow, grant_id, self.clock(), requester)
            uow.integrations.remove(integration.id)
            uow.commit()
        for token_id in revoked:
            self.tokens.revoked(token_id)
        return integration

    def authenticate(self, client_id: str | None, client_secret: str | None) -> Integration:
        """The integration these credentials name; raises `InvalidClient`."""
        if not client_id or not client_secret or len(client_id) > 100 or len(client_secret) > 200:
            raise InvalidClient("Client authentication failed: send client_id and client_secret.")
        digest = self.digester.digest(client_secret)
        with self.uow(one_read=True) as uow:
            integration = uow.integrations.by_client_id(client_id)
        if integration is None or not integration.secret_matches(digest):
            raise InvalidClient("Client authentication failed: unknown client or wrong secret.")
        return integration

    def by_client_id(self, client_id: str) -> Integration | None:
        if not client_id or len(client_id) > 100:
            return None
        with self.uow(one_read=True) as uow:
            return uow.integrations.by_client_id(client_id)
