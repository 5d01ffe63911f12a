"""The permission catalogue's use cases: the names an operator lets tokens carry."""

from dataclasses import dataclass

from tokend.domain.errors import Conflict, NotFound
from tokend.domain.permissions import (
    BUILTIN,
    CataloguedPermission,
    validate_description,
    validate_name,
)
from tokend.service.clock import Clock, system_clock
from tokend.service.ports import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class PermissionService:
    uow: UnitOfWorkFactory
    clock: Clock = system_clock

    def add(self, name: str, description: str) -> CataloguedPermission:
        permission = CataloguedPermission(
            validate_name(name), validate_description(description), self.clock()
        )
        if permission.name in BUILTIN:
            raise Conflict(f"{name} is one of tokend's own permissions already.")
        with self.uow(write=True) as uow:
            if not uow.permissions.add(permission):
                raise Conflict(f"The permission {name} exists already.")
            uow.commit()
        return permission

    def list(self) -> list[CataloguedPermission]:
        """tokend's own permissions, then the catalogue's, by name."""
        with self.uow() as uow:
            catalogued = uow.permissions.list()
        own = [CataloguedPermission(name, text, 0) for name, text in sorted(BUILTIN.items())]
        return own + catalogued

    def remove(self, name: str) -> None:
        """New tokens can no longer ask for it; tokens that hold it keep it (a resource
        server may still check it), as no token is changed after it is made."""
        if name in BUILTIN:
            raise Conflict(f"{name} is one of tokend's own permissions; it cannot be removed.")
        with self.uow(write=True) as uow:
            if not uow.permissions.remove(name):
                raise NotFound(f"No permission is named {name!r}.")
            uow.commit()
