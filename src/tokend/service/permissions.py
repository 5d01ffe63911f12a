"""The permission catalogue's use cases: the names an operator lets tokens carry."""

from collections.abc import Set
from dataclasses import dataclass, field

from tokend.domain.errors import Conflict, NotFound
from tokend.domain.permissions import (
    BUILTIN,
    CataloguedPermission,
    ensure_known,
    validate_description,
    validate_name,
)
from tokend.service.clock import Clock, system_clock
from tokend.service.ports import UnitOfWorkFactory


class _KnownNames:
    """The catalogue's names seen so far. Only ever grows: a name removed from the
    catalogue stays on the tokens that hold it, and a resource server may still check
    it, so it stays a name worth checking."""

    def __init__(self) -> None:
        self.names: frozenset[str] = frozenset(BUILTIN)


@dataclass(frozen=True, slots=True)
class PermissionService:
    uow: UnitOfWorkFactory
    clock: Clock = system_clock
    _known: _KnownNames = field(default_factory=_KnownNames, init=False, repr=False)

    def known_now(self, names: Set[str]) -> bool:
        """Whether every name is known without asking the database (for the check's
        shortcut, which never does I/O); False means "ask `ensure_known`"."""
        return names <= self._known.names

    def ensure_known(self, names: Set[str]) -> None:
        """Raise ValidationFailed unless every name is tokend's own or catalogued. Names
        not seen before are read from the catalogue (one query), then remembered."""
        unseen = frozenset(names) - self._known.names
        if not unseen:
            return
        with self.uow() as uow:
            found = uow.permissions.known(unseen)
        # One assignment of a new frozenset: readers on the event loop see the old set
        # or the new one, never one being changed.
        self._known.names = self._known.names | found
        ensure_known(unseen, found)

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
