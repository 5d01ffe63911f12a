"""What people do (sign in and out, fail to, change passwords, accept invites, approve
or deny device logins) is in their audit log over HTTP, with its type, on both
databases; the API documents every type."""

import pytest

from tests.conftest import Account
from tests.support import Server
from tokend.bootstrap import Services
from tokend.domain.audit import EventType, Requester
from tokend.domain.errors import SignInFailed

PASSWORD = "a long enough passphrase"
BROWSER = Requester(ip="198.51.100.7", user_agent="Mozilla/5.0 (pytest)")


def test_every_account_event_is_in_the_log(
    server: Server, services: Services, alice: Account
) -> None:
    accounts, sessions, devices = services.accounts, services.sessions, services.devices
    invite = accounts.invite(alice.username)
    first = accounts.accept_invite(invite.code, PASSWORD, BROWSER)
    with pytest.raises(SignInFailed):
        sessions.sign_in(alice.username, "not the password", BROWSER)
    second = sessions.sign_in(alice.username, PASSWORD, BROWSER)
    accounts.change_password(second.person, PASSWORD, PASSWORD + "!", BROWSER)
    third = sessions.sign_in(alice.username, PASSWORD + "!", BROWSER)
    sessions.end(third.person, second.session.id, BROWSER)
    sessions.sign_out(third.person, BROWSER)
    for approve in (False, True):
        grant = devices.start("tokend-cli")
        devices.decide(first.person, grant.user_code, approve=approve, requester=BROWSER)

    with server.client(alice.token) as api:
        events = api.get("/v1/user/events", params={"limit": 100}).json()["events"]

    types = [event["type"] for event in reversed(events)]  # oldest first
    assert types == [
        "token.created",  # the bootstrap token
        "account.invite_created",
        "account.invite_accepted", "auth.signed_in",
        "auth.sign_in_failed",
        "auth.signed_in",
        "account.password_changed",
        "auth.signed_in",
        "auth.session_ended",
        "auth.signed_out",
        "device.denied",
        "device.approved",
    ]  # fmt: skip
    for event in events[:-2]:  # from the browser, as the web pages pass it on
        assert (event["ip"], event["userAgent"]) == (BROWSER.ip, BROWSER.user_agent)
        assert "tokenId" not in event
        assert "token" not in event
    for secret in (PASSWORD, invite.code, first.secret, second.secret, third.secret):
        assert secret not in str(events)


def test_the_event_model_lists_every_type(server: Server) -> None:
    with server.client() as api:
        schema = api.get("/openapi.json").json()["components"]["schemas"]["AuditEvent"]
    description = schema["properties"]["type"]["description"]
    for event_type in EventType:
        assert f"`{event_type.value}`" in description
