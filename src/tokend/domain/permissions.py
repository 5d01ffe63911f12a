"""Permissions: what a restricted token may do.

A token without permissions is unrestricted, as every Vercel-style token is. A token
with them may do only what they name: tokend's own operations each need one of
tokend's permissions (`REQUIRED`, the one table of operation → permission), and a
resource server checks its own names (``deployments:read``) from the instance's
catalogue. A restricted token makes only tokens with a subset of its permissions.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from tokend.domain.errors import Forbidden, ValidationFailed

TOKENS_READ = "tokens:read"
TOKENS_WRITE = "tokens:write"
TOKENS_ROTATE_SELF = "tokens:rotate-self"
EVENTS_READ = "events:read"
USER_READ = "user:read"
WEBHOOKS_READ = "webhooks:read"
WEBHOOKS_WRITE = "webhooks:write"

BUILTIN: Mapping[str, str] = {
    TOKENS_READ: "List and read the metadata of tokens.",
    TOKENS_WRITE: "Create, revoke and rotate tokens.",
    TOKENS_ROTATE_SELF: "Rotate the token itself (and nothing else).",
    EVENTS_READ: "Read the audit log.",
    USER_READ: "Read the token's user (GET /v2/user, userinfo).",
    WEBHOOKS_READ: "List webhooks and their deliveries.",
    WEBHOOKS_WRITE: "Add and remove webhooks.",
}

NAME_MAX_LENGTH = 64
DESCRIPTION_MAX_LENGTH = 200
MAX_PER_TOKEN = 50
# resource:action style, lower case: "deployments:read", "billing.invoices:write".
NAME_PATTERN = r"[a-z0-9][a-z0-9_.-]*(?::[a-z0-9_.*-]+)*"
_NAME = re.compile(NAME_PATTERN)

# What introspection says for an unrestricted token's scope.
UNRESTRICTED_SCOPE = "*"


class Operation(StrEnum):
    """tokend's own operations a bearer token can ask for."""

    READ_USER = "read its user"
    LIST_TOKENS = "list tokens"
    GET_TOKEN = "read a token"
    CREATE_TOKEN = "create tokens"
    REVOKE_TOKEN = "revoke tokens"
    ROTATE_TOKEN = "rotate tokens"
    ROTATE_ITSELF = "rotate itself"
    LIST_EVENTS = "read the audit log"
    READ_WEBHOOKS = "read webhooks"
    MANAGE_WEBHOOKS = "add or remove webhooks"


# Each operation and the permissions that allow it (any one of them).
REQUIRED: Mapping[Operation, frozenset[str]] = {
    Operation.READ_USER: frozenset({USER_READ}),
    Operation.LIST_TOKENS: frozenset({TOKENS_READ}),
    Operation.GET_TOKEN: frozenset({TOKENS_READ}),
    Operation.CREATE_TOKEN: frozenset({TOKENS_WRITE}),
    Operation.REVOKE_TOKEN: frozenset({TOKENS_WRITE}),
    Operation.ROTATE_TOKEN: frozenset({TOKENS_WRITE}),
    Operation.ROTATE_ITSELF: frozenset({TOKENS_WRITE, TOKENS_ROTATE_SELF}),
    Operation.LIST_EVENTS: frozenset({EVENTS_READ}),
    Operation.READ_WEBHOOKS: frozenset({WEBHOOKS_READ}),
    Operation.MANAGE_WEBHOOKS: frozenset({WEBHOOKS_WRITE}),
}

Permissions = frozenset[str] | None  # None: unrestricted


@dataclass(frozen=True, slots=True)
class CataloguedPermission:
    name: str
    description: str
    created_at: int


def allows(permissions: Permissions, operation: Operation) -> bool:
    return permissions is None or not permissions.isdisjoint(REQUIRED[operation])


def ensure_allows(permissions: Permissions, operation: Operation) -> None:
    if not allows(permissions, operation):
        needed = " or ".join(sorted(REQUIRED[operation]))
        raise Forbidden(
            f"This token may not {operation.value}: that needs the permission {needed}."
        )


def has(permissions: Permissions, name: str) -> bool:
    """Whether a token with ``permissions`` holds ``name`` (a resource server's check)."""
    return permissions is None or name in permissions


def ensure_holds(permissions: Permissions, names: Iterable[str]) -> None:
    """Raise `Forbidden` unless a token with ``permissions`` holds every one of ``names``
    (a gateway's check: each name it asks for is required)."""
    if permissions is None:
        return
    lacking = sorted(name for name in names if name not in permissions)
    if lacking:
        plural = "s" if len(lacking) > 1 else ""
        raise Forbidden(f"This token lacks the permission{plural} {', '.join(lacking)}.")


def ensure_grantable(requested: Permissions, held: Permissions) -> None:
    """A token holding ``held`` may make one holding ``requested``: nothing more than
    it has itself, and never an unrestricted one if it is restricted."""
    if held is None:
        return
    if requested is None:
        raise Forbidden(
            "A restricted token can only create restricted tokens: send permissions, "
            "a subset of its own."
        )
    beyond = requested - held
    if beyond:
        raise Forbidden(
            "A token cannot create a token with permissions it does not hold: "
            + ", ".join(sorted(beyond))
            + "."
        )


def validate_name(name: str) -> str:
    if len(name) > NAME_MAX_LENGTH or not _NAME.fullmatch(name):
        raise ValidationFailed(
            f"{name[:NAME_MAX_LENGTH]!r} is not a permission name: lower-case letters, digits "
            f"and . _ - in parts joined by ':' (deployments:read), at most {NAME_MAX_LENGTH} "
            "characters."
        )
    return name


def validate_description(description: str) -> str:
    description = description.strip()
    if not description or len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationFailed(f"The description must be 1 to {DESCRIPTION_MAX_LENGTH} characters.")
    return description


def requested(names: Iterable[str] | None) -> Permissions:
    """The permissions asked for, well formed; None (unrestricted) when none were."""
    if names is None:
        return None
    asked = frozenset(validate_name(name) for name in names)
    if len(asked) > MAX_PER_TOKEN:
        raise ValidationFailed(f"A token may hold at most {MAX_PER_TOKEN} permissions.")
    return asked


def ensure_known(asked: frozenset[str], catalogued: frozenset[str]) -> None:
    """Every name asked for is tokend's own or in the instance's catalogue."""
    unknown = asked - catalogued - BUILTIN.keys()
    if unknown:
        raise ValidationFailed(
            "Unknown permission: " + ", ".join(sorted(unknown)) + ". An operator adds them "
            "with 'tokend admin permissions add NAME --description TEXT'."
        )


def as_scope(permissions: Permissions) -> str:
    """Introspection's ``scope`` (RFC 7662): the names, space-separated; ``*`` for an
    unrestricted token."""
    return UNRESTRICTED_SCOPE if permissions is None else " ".join(sorted(permissions))
