"""Users, teams and membership."""

import re
from dataclasses import dataclass
from enum import StrEnum

from tokend.domain.errors import ValidationFailed
from tokend.domain.text import has_control_characters

DISPLAY_NAME_MAX_LENGTH = 256

_USERNAME_RE = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,46}[a-z0-9])?")
_SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?")
_EMAIL_RE = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")


class AccountKind(StrEnum):
    USER = "user"
    # A resource server's account: its tokens may introspect other tokens, and do
    # nothing else.
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class User:
    id: str
    username: str
    email: str
    name: str | None
    created_at: int
    kind: AccountKind = AccountKind.USER

    @property
    def is_service(self) -> bool:
        return self.kind is AccountKind.SERVICE


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    slug: str
    name: str
    created_at: int


def validate_username(username: str) -> str:
    if not _USERNAME_RE.fullmatch(username):
        raise ValidationFailed(
            f"Invalid username {username!r}: use 1-48 lowercase letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit."
        )
    return username


def validate_slug(slug: str) -> str:
    if not _SLUG_RE.fullmatch(slug):
        raise ValidationFailed(
            f"Invalid team slug {slug!r}: use 1-48 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit."
        )
    return slug


def validate_email(email: str) -> str:
    if not _EMAIL_RE.fullmatch(email):
        raise ValidationFailed(f"Invalid email address {email!r}.")
    return email


def validate_display_name(name: str | None) -> str | None:
    if name is None:
        return None
    if not name.strip() or len(name) > DISPLAY_NAME_MAX_LENGTH or has_control_characters(name):
        raise ValidationFailed(
            f"A name must be 1-{DISPLAY_NAME_MAX_LENGTH} characters, none of them control "
            "characters."
        )
    return name
