"""The permission catalogue's use cases: the names an operator lets tokens carry."""

import time
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

# How long a catalogued name is trusted without reading the catalogue again: a name
# removed is refused by every node within this time.
KNOWN_FOR_S = 60.0


class _KnownNames:
    """The catalogue's names read lately, and until when they are trusted."""

    def __init__(self, trusted_for_s: float) -> None:
        self.names: frozenset[str] = frozenset(BUILTIN)
        self.until = time.monotonic() + trusted_for_s


@dataclass(frozen=True, slots=True)
class PermissionService:
    uow: UnitOfWorkFactory
    clock: Clock = system_clock
    known_for_s: float = KNOWN_FOR_S
    # A one-item list: the service is frozen, the names it knows are not.
    _known: list[_KnownNames] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self._known.append(_KnownNames(self.known_for_s))

    def known_now(self, names: Set[str]) -> bool:
        """Whether every name is known without asking the database (for the check's
        shortcut, which never does I/O); False means "ask `ensure_known`"."""
        if not names:
            return True
        known = self._known[0]
        if time.monotonic() >= known.until:
            # Forgotten, so that a name removed from the catalogue is read again.
            self._known[0] = _KnownNames(self.known_for_s)
            return names <= BUILTIN.keys()
        return names <= known.names

    def ensure_known(self, names: Set[str]) -> None:
        """Raise ValidationFailed unless every name is tokend's own or catalogued. Names
        not known lately are read from the catalogue (one query), then remembered."""
        known = self._known[0]
        unseen = frozenset(names) - known.names
        if not unseen:
            return
        with self.uow() as uow:
            found = uow.permissions.known(unseen)
        # One assignment of a new frozenset: readers on the event loop see the old set
        # or the new one, never one being changed.
        known.names = known.names | found
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
