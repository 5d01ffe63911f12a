"""The secrets of people (passwords, session cookies, invite codes, device and user
codes, the tokens a device login hands out) exist only where they must: never in a
repr, and never in the database, which holds digests and argon2id hashes only."""

from typing import Any

from sqlalchemy import select

from tests.service.conftest import People, address
from tokend.storage.schema import metadata, users

PASSWORDS = ["a fine passphrase", "chosen on the invite", "changed on the account page"]


def test_no_secret_in_a_repr_or_the_database(people: People) -> None:
    people.user("alice", password=PASSWORDS[0])
    people.user("bob", password=None)
    signed_in = people.sessions.sign_in("alice", PASSWORDS[0], address())
    invite = people.accounts.invite("bob")
    accepted = people.accounts.accept_invite(invite.code, PASSWORDS[1], address())
    people.accounts.change_password(accepted.person, PASSWORDS[1], PASSWORDS[2], address())
    grant = people.devices.start("tokend-cli", name="laptop")
    pending = people.devices.start("tokend-cli", name="pending")
    people.devices.decide(signed_in.person, grant.user_code, approve=True, requester=address())
    issued = people.devices.poll(grant.device_code, "tokend-cli")

    secrets = {
        "session": signed_in.secret,
        "invite session": accepted.secret,
        "invite code": invite.code,
        "device code": grant.device_code,
        "user code": grant.user_code,
        "pending device code": pending.device_code,
        "pending user code": pending.user_code,
        "token": issued.secret,
        **{f"password {i}": password for i, password in enumerate(PASSWORDS)},
    }
    shown = [repr(signed_in), repr(accepted), repr(invite), repr(grant), repr(issued),
             str(signed_in), str(invite), str(grant), str(issued)]  # fmt: skip
    for name, secret in secrets.items():
        if "user code" in name:
            continue  # shown on the device's screen on purpose; at rest, only a digest
        for text in shown:
            assert secret not in text, (name, text)

    rows = dump(people)
    assert all(rows[table] for table in ("sessions", "invites", "device_authorizations"))
    for name, secret in secrets.items():
        for table, values in rows.items():
            for value in values:
                if isinstance(value, bytes):
                    assert secret.encode() not in value, (name, table)
                else:
                    assert secret not in str(value), (name, table)

    with people.services.engine.connect() as conn:
        hashes = [row[0] for row in conn.execute(select(users.c.password_hash)) if row[0]]
    assert len(hashes) == 2
    assert all(h.startswith("$argon2id$v=19$m=47104,t=2,p=1$") for h in hashes), hashes


def dump(people: People) -> dict[str, list[Any]]:
    """Every value of every row of every table."""
    found: dict[str, list[Any]] = {}
    with people.services.engine.connect() as conn:
        for table in metadata.sorted_tables:
            found[table.name] = [value for row in conn.execute(select(table)) for value in row]
    return found
