"""What makes a password acceptable (§9): 10 to 256 characters, and not the account's
own username or email. Length is what counts (NIST SP 800-63B); no composition rules."""

from tokend.domain.accounts import User
from tokend.domain.errors import ValidationFailed

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 256


class WeakPassword(ValidationFailed):
    """A password the rules refuse; the message says which rule."""


def validate_password(password: str, user: User) -> str:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise WeakPassword(f"Use at least {PASSWORD_MIN_LENGTH} characters.")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise WeakPassword(f"Use at most {PASSWORD_MAX_LENGTH} characters.")
    folded = password.casefold()
    if folded in (user.username.casefold(), user.email.casefold()):
        raise WeakPassword("The password must not be your username or email.")
    return password
