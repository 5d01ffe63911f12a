"""`Client` and `AsyncClient` against a live `tokend serve`, on both databases."""

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.client.conftest import Connect
from tests.conftest import Account
from tests.support import Server, free_port
from tokend.bootstrap import Services
from tokend.client import (
    NO_RETRIES,
    APIError,
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    ServerUnreachable,
)
from tokend.domain.scopes import Scope

DAY_MS = 86_400_000


def test_user_is_the_token_owner(server: Server, alice: Account, connect: Connect) -> None:
    user = connect(base_url=server.url, token=alice.token).user()
    assert user.id == alice.user_id
    assert user.username == alice.username


def test_create_then_use_the_new_secret(server: Server, alice: Account, connect: Connect) -> None:
    client = connect(base_url=server.url, token=alice.token)
    created = client.tokens.create("ci", expires_at=timedelta(days=30))

    assert created.token.name == "ci"
    expected = time.time() * 1000 + 30 * DAY_MS
    assert created.token.expires_at is not None
    assert abs(created.token.expires_at - expected) < 60_000
    assert created.bearer_token not in repr(created)  # printing a response leaks nothing

    fresh = connect(base_url=server.url, token=created.bearer_token)
    assert fresh.tokens.get("current").id == created.token.id


def test_list_walks_every_page(server: Server, alice: Account, connect: Connect) -> None:
    client = connect(base_url=server.url, token=alice.token)
    made = [client.tokens.create(f"t{i}").token.id for i in range(12)]

    listed = [token.id for token in client.tokens.list(page_size=5)]  # 13 tokens: 3 pages

    assert listed == [*reversed(made), alice.token_id]  # newest first, each once
    assert [t.id for t in client.tokens.list(limit=7, page_size=5)] == listed[:7]
    assert list(client.tokens.list(limit=0)) == []


def test_list_default_pages_past_the_server_maximum(
    server: Server, services: Services, alice: Account, connect: Connect
) -> None:
    # More tokens than the largest page (100), made in-process to keep the test quick.
    with services.tokens.uow(write=True) as uow:
        for i in range(104):
            services.tokens.issue(uow, user_id=alice.user_id, name=f"bulk {i}", scope=Scope.user())
        uow.commit()
    client = connect(base_url=server.url, token=alice.token)

    ids = [token.id for token in client.tokens.list()]

    assert len(ids) == 105
    assert len(set(ids)) == 105


def test_get_and_delete(server: Server, alice: Account, connect: Connect) -> None:
    client = connect(base_url=server.url, token=alice.token)
    made = client.tokens.create("doomed")

    assert client.tokens.get(made.token.id) == made.token
    assert client.tokens.delete(made.token.id) == made.token.id
    with pytest.raises(NotFound) as raised:
        client.tokens.get(made.token.id)
    assert (raised.value.status, raised.value.code) == (404, "not_found")


def test_revoked_token_raises_authentication_failed(
    server: Server, alice: Account, connect: Connect
) -> None:
    client = connect(base_url=server.url, token=alice.token)
    assert client.tokens.delete("current") == alice.token_id

    with pytest.raises(AuthenticationFailed) as raised:
        client.user()
    error = raised.value
    assert isinstance(error, APIError)
    assert (error.status, error.code) == (401, "invalid_token")
    assert "revoked" in error.message
    assert alice.token not in str(error)


def test_no_token_is_missing_token(server: Server, connect: Connect) -> None:
    with pytest.raises(AuthenticationFailed) as raised:
        connect(base_url=server.url, token="").user()
    assert raised.value.code == "missing_token"


def test_someone_elses_token_is_not_found(
    server: Server, alice: Account, make_user: Callable[..., Account], connect: Connect
) -> None:
    bob = make_user("bob")
    with pytest.raises(NotFound):
        connect(base_url=server.url, token=alice.token).tokens.delete(bob.token_id)


def test_team_token_by_slug_and_by_id(
    server: Server, services: Services, alice: Account, connect: Connect
) -> None:
    team = services.admin.create_team(f"team-{alice.username}", owner=alice.username)
    client = connect(base_url=server.url, token=alice.token)

    by_slug = client.tokens.create("deploy", slug=team.slug).token
    by_id = client.tokens.create("deploy", team_id=team.id).token

    for token in (by_slug, by_id):
        assert token.scopes is not None
        assert token.scopes[0].type == "team"
    with pytest.raises(PermissionDenied) as raised:
        client.tokens.create("nope", team_id="team_000000000000000000000000")
    assert (raised.value.status, raised.value.code) == (403, "forbidden")


def test_project_token_may_not_manage_tokens(
    server: Server, alice: Account, connect: Connect
) -> None:
    client = connect(base_url=server.url, token=alice.token)
    project = client.tokens.create("app", project_id="prj_1").bearer_token
    with pytest.raises(PermissionDenied):
        list(connect(base_url=server.url, token=project).tokens.list())


def test_environment_supplies_url_and_token(
    server: Server, alice: Account, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKEND_URL", server.url)
    monkeypatch.setenv("TOKEND_TOKEN", alice.token)
    client = connect()
    assert client.base_url == server.url
    assert client.user().id == alice.user_id


def test_unreachable_server_is_its_own_error(connect: Connect) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client = connect(base_url=url, token="tkd_x", retry=NO_RETRIES)
    with pytest.raises(ServerUnreachable) as raised:
        client.user()
    assert url in str(raised.value)
    assert "tkd_x" not in str(raised.value)


def test_rotate_and_the_events_it_leaves(server: Server, alice: Account, connect: Connect) -> None:
    client = connect(base_url=server.url, token=alice.token)
    made = client.tokens.create("rotating", expires_at=timedelta(days=7))
    rotated = client.tokens.rotate(made.token.id)
    assert rotated.token.name == "rotating"
    assert rotated.bearer_token != made.bearer_token
    assert rotated.bearer_token not in repr(rotated)
    assert rotated.token.expires_at is not None
    assert abs(rotated.token.expires_at - (time.time() * 1000 + 7 * DAY_MS)) < 60_000
    with pytest.raises(AuthenticationFailed):
        connect(base_url=server.url, token=made.bearer_token).user()
    assert connect(base_url=server.url, token=rotated.bearer_token).user().id == alice.user_id

    events = list(client.events(page_size=2))  # every page
    assert [event.type for event in events] == [
        "token.created",
        "token.rotated",
        "token.created",
        "token.created",  # the bootstrap token
    ]
    assert [event.token_id for event in events[:3]] == [
        rotated.token.id,
        made.token.id,
        made.token.id,
    ]
    assert [e.id for e in client.events(limit=3, page_size=2)] == [e.id for e in events[:3]]


def test_instants_are_also_datetimes(server: Server, alice: Account, connect: Connect) -> None:
    client = connect(base_url=server.url, token=alice.token)
    created = client.tokens.create("dated", expires_at=timedelta(days=30)).token

    expires = created.expires_at_datetime
    assert expires is not None
    assert expires.tzinfo is not None  # aware, in UTC
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)
    assert expires.timestamp() * 1000 == created.expires_at  # the same instant, exactly
    assert created.created_at_datetime <= created.active_at_datetime
    assert created.revoked_at_datetime is None
    listed = next(t for t in client.tokens.list() if t.id == created.id)
    assert listed.expires_at_datetime == expires
    assert client.user().created_at_datetime.tzinfo is not None
    event = next(iter(client.events(limit=1)))
    assert event.created_at_datetime >= created.created_at_datetime

    # The wire format is unchanged: integers, and no extra fields.
    wire = created.model_dump(mode="json", by_alias=True)
    assert wire["expiresAt"] == created.expires_at
    assert not any("atetime" in key for key in wire)
    with server.client() as http:
        assert "atetime" not in http.get("/openapi.json").text
