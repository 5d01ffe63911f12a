"""Wires settings, storage and services together; the HTTP app and the CLI start here."""

from dataclasses import dataclass

from sqlalchemy import Engine

from tokend.domain.digest import Digester
from tokend.service.admin import AdminService
from tokend.service.authentication import Authenticator
from tokend.service.tokens import TokenService
from tokend.settings import Settings
from tokend.storage.engine import make_engine
from tokend.storage.unit_of_work import SqlUnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    engine: Engine
    authenticator: Authenticator
    tokens: TokenService
    admin: AdminService

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings | None = None) -> Services:
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    uow = SqlUnitOfWorkFactory(engine)
    digester = Digester(settings.pepper_bytes)
    tokens = TokenService(uow=uow, secret_format=settings.secret_format, digester=digester)
    return Services(
        settings=settings,
        engine=engine,
        authenticator=Authenticator(
            uow=uow,
            secret_format=settings.secret_format,
            digester=digester,
            active_at_resolution_ms=settings.active_at_resolution_s * 1000,
        ),
        tokens=tokens,
        admin=AdminService(uow=uow, tokens=tokens),
    )
