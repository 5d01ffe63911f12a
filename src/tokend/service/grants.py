"""Ending a grant: its refresh tokens stop working and every access token issued
under it is revoked, inside the caller's transaction."""

from dataclasses import replace

from tokend.domain.audit import EventType, Requester
from tokend.service.audit import record
from tokend.service.ports import UnitOfWork


def revoke_grant(uow: UnitOfWork, grant_id: str, now: int, requester: Requester) -> list[str]:
    """Revoke the grant; returns the ids of the access tokens revoked with it, for the
    caller to drop from its cache once the transaction commits."""
    uow.oauth.revoke_grant(grant_id, now)
    revoked = []
    for token_id in uow.oauth.grant_token_ids(grant_id):
        token = uow.tokens.get(token_id)
        if token is not None and uow.tokens.revoke(token_id, now):
            revoked.append(token_id)
            record(
                uow, EventType.TOKEN_REVOKED, now=now, token=replace(token, revoked_at=now),
                actor=None, requester=requester,
            )  # fmt: skip
    return revoked
