"""An event's token snapshot keeps the token's permissions; snapshots written before
tokens had permissions still read (as unrestricted)."""

import json

from sqlalchemy import select, update

from tests.conftest import Account
from tokend.bootstrap import Services
from tokend.storage.schema import audit_events


def test_snapshots_keep_permissions_and_old_ones_still_read(
    services: Services, alice: Account
) -> None:
    caller = services.authenticator.authenticate(alice.token)
    made = services.tokens.create(caller, name="reader", permissions=["tokens:read"])
    [event] = [
        e for e in services.audit.list(caller, limit=100).events if e.token_id == made.token.id
    ]
    assert event.token is not None
    assert event.token.permissions == frozenset({"tokens:read"})

    # As a version before permissions wrote it: no such key in the snapshot.
    with services.engine.begin() as conn:
        stored = conn.execute(
            select(audit_events.c.token).where(audit_events.c.id == event.id)
        ).scalar_one()
        old = json.loads(stored)
        del old["permissions"]
        conn.execute(
            update(audit_events).where(audit_events.c.id == event.id).values(token=json.dumps(old))
        )
    [again] = [
        e for e in services.audit.list(caller, limit=100).events if e.token_id == made.token.id
    ]
    assert again.token is not None
    assert again.token.permissions is None
