"""Random identifiers and the base62 alphabet they share with secrets."""

import secrets

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 24


def random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def new_token_id() -> str:
    # Ids are random rather than derived from the secret, so a leaked id says
    # nothing about the secret behind it.
    return random_base62(ID_LENGTH)


def is_token_id(candidate: str) -> bool:
    """Whether ``candidate`` could be a token id; anything else need not be looked up."""
    return len(candidate) == ID_LENGTH and all(char in BASE62 for char in candidate)


def new_user_id() -> str:
    return random_base62(ID_LENGTH)


def new_team_id() -> str:
    return "team_" + random_base62(ID_LENGTH)


def new_event_id() -> str:
    return "evt_" + random_base62(ID_LENGTH)


def new_session_id() -> str:
    return "ses_" + random_base62(ID_LENGTH)


def new_invite_id() -> str:
    return "inv_" + random_base62(ID_LENGTH)


def new_device_id() -> str:
    return "dev_" + random_base62(ID_LENGTH)


def new_webhook_id() -> str:
    return "wh_" + random_base62(ID_LENGTH)


def new_delivery_id() -> str:
    # Standard Webhooks' own examples name messages msg_…
    return "msg_" + random_base62(ID_LENGTH)
