"""``/tokens``: the list, create (the secret shown once), rotate, revoke."""

import datetime as dt
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support import Server, eventually
from tests.web.conftest import Person
from tests.web.visitor import Page, Visitor, row_of, secret_on, token_rows
from tokend.bootstrap import Services


def _create(browser: Visitor, name: str, **choices: str) -> Page:
    page = browser.get("/tokens")
    fill = {"Name": name}
    fields = {"expiration": choices.pop("expiration", "30"), **choices}
    return browser.page(browser.submit(page, "Create token", fill, values=fields))


def _user_of(server: Server, secret: str) -> httpx.Response:
    with server.client(secret) as api:
        return api.get("/v2/user")


def test_the_page_names_its_parts(signed_in: Visitor) -> None:
    page = signed_in.get("/tokens")
    assert page.status == 200
    assert page.title == "Tokens · tokend"
    assert page.doc.one("h1").text == "Tokens"
    assert page.doc.labelled("Name").attrs["name"] == "name"
    expiration = page.doc.labelled("Expiration")
    assert [o.text for o in expiration.all("option")] == [
        "7 days", "30 days", "60 days", "90 days", "Custom date", "No expiration",
    ]  # fmt: skip
    assert page.doc.labelled("Expiration date").attrs["type"] == "date"
    assert [o.text for o in page.doc.labelled("Scope").all("option")] == ["Personal"]
    assert page.doc.button("Create token").attrs["type"] == "submit"
    assert "new-token-secret" not in page.html


def test_a_new_token_is_shown_once_and_works(
    signed_in: Visitor, person: Person, server: Server
) -> None:
    page = _create(signed_in, "CI deploys")
    assert page.status == 201
    assert page.response.headers["cache-control"] == "no-store"
    secret = secret_on(page)
    assert secret.startswith("tkd_")
    assert len(page.doc.all(data_testid="new-token-secret")) == 1
    assert page.doc.button("Copy").attrs["data-copy"] == "new-token-secret"
    assert "It will not be shown again" in page.doc.one(class_="warning").text

    # The secret is a working token of this person.
    answer = _user_of(server, secret)
    assert answer.status_code == 200
    assert answer.json()["user"]["username"] == person.username

    # In the row: the name, personal scope, prefix…suffix, times in words.
    (row,) = [r for r in token_rows(page) if r.one("th").text == "CI deploys"]
    cells = [cell.text for cell in row.all("td")]
    assert cells[0] == "Personal"
    assert cells[1] == f"tkd_…{secret[-4:]}"
    assert cells[2] == "just now"
    assert cells[3] == "never"
    assert cells[4] == "in 30 days"
    created = row.all("time")[0]
    assert created.attrs["datetime"].endswith("Z")
    assert created.attrs["title"].endswith("UTC")
    assert row.buttons() == ["Rotate", "Revoke"]

    # Shown once: not on the list when it is loaded again, nor in the server's log.
    again = signed_in.get("/tokens")
    assert secret not in again.html
    assert not again.doc.all(data_testid="new-token-secret")
    assert row_of(again, row.attrs["data-token-id"]).one("th").text == "CI deploys"
    assert secret not in server.log_path.read_text()


@pytest.fixture(scope="module")
def fine_grained_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server that records a token's use to the second (by default, to the minute:
    a token used in its first minute would still read "never")."""
    log = tmp_path_factory.mktemp("activity") / "tokend.log"
    env = {"TOKEND_ACTIVE_AT_RESOLUTION_S": "1", "TOKEND_ACTIVE_AT_FLUSH_S": "0.1"}
    with Server(database_url=database_url, log_path=log, env=env) as running:
        yield running


def test_last_used_is_shown_once_the_token_is_used(
    fine_grained_server: Server, person: Person
) -> None:
    with Visitor(fine_grained_server) as browser:
        browser.sign_in(person.username, person.password)
        page = _create(browser, "used")
        token_id = token_rows(page)[0].attrs["data-token-id"]
        assert token_rows(page)[0].all("td")[3].text == "never"
        time.sleep(1.1)
        assert _user_of(fine_grained_server, secret_on(page)).status_code == 200

        def last_used() -> str:
            return row_of(browser.get("/tokens"), token_id).all("td")[3].text

        assert eventually(lambda: last_used() == "just now", seconds=10), last_used()


@pytest.mark.parametrize(
    ("expiration", "shown"),
    [("7", "in 7 days"), ("60", "in 2 months"), ("90", "in 3 months"), ("none", "never")],
)
def test_expirations(signed_in: Visitor, expiration: str, shown: str) -> None:
    page = _create(signed_in, f"expires {expiration}", expiration=expiration)
    assert page.status == 201
    assert token_rows(page)[0].all("td")[4].text == shown


def test_a_custom_expiry_date(signed_in: Visitor, server: Server) -> None:
    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=45)
    page = _create(signed_in, "custom", expiration="custom", expires_on=day.isoformat())
    assert page.status == 201
    expires = token_rows(page)[0].all("td")[4].one("time")
    end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
    assert expires.attrs["datetime"] == end_of_day.strftime("%Y-%m-%dT%H:%M:%SZ")
    with server.client(secret_on(page)) as api:
        token = api.get("/v5/user/tokens/current").json()["token"]
    assert token["expiresAt"] == int(end_of_day.timestamp() * 1000)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "   "}, "name", "The token name must not be empty."),
        ({"name": "x" * 101}, "name", "The token name must be at most 100 characters."),
        ({"name": "ok", "expiration": "custom", "expires_on": ""}, "expires_on", "Enter the date"),
        ({"name": "ok", "expiration": "custom", "expires_on": "2001-01-01"}, "expires_on", "from"),
        ({"name": "ok", "expiration": "custom", "expires_on": "tomorrow"}, "expires_on", "such as"),
        ({"name": "ok", "expiration": "365"}, "expiration", "Choose one of"),
        ({"name": "ok", "scope": "team_not_mine"}, "scope", "Choose Personal or one of"),
    ],
)
def test_invalid_input_changes_nothing_and_says_where(
    signed_in: Visitor, services: Services, fields: dict[str, str], field: str, message: str
) -> None:
    before = signed_in.get("/tokens")
    answer = signed_in.submit(before, "Create token", values=fields)
    page = signed_in.page(answer)
    assert page.status == 400
    assert page.title == "Error: Tokens · tokend"
    control = page.doc.one(id=f"field-{field}")
    assert control.attrs["aria-invalid"] == "true"
    error = page.doc.one(id=f"field-{field}-error")
    assert error.attrs["role"] == "alert"
    assert message in error.text
    assert error.text in control.described_by()
    assert not page.doc.all(data_testid="new-token-secret")
    assert len(token_rows(page)) == len(token_rows(before))  # nothing made
    if field == "name" and fields["name"].strip():
        assert page.doc.labelled("Name").attrs["value"] == fields["name"][:101]


def test_a_token_name_is_text_never_markup(signed_in: Visitor) -> None:
    name = "<script>alert(1)</script>"
    page = _create(signed_in, name)
    assert page.status == 201
    assert "<script>alert(1)" not in page.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.html
    assert token_rows(page)[0].one("th").text == name
    again = signed_in.get("/tokens")
    assert "<script>alert(1)" not in again.html
    assert token_rows(again)[0].one("th").text == name


def test_a_team_token(
    signed_in: Visitor, person: Person, services: Services, server: Server
) -> None:
    team = services.admin.create_team(
        f"t-{person.username[-10:]}", owner=person.username, name="Platform"
    )
    page = signed_in.get("/tokens")
    scopes = page.doc.labelled("Scope").all("option")
    assert [(o.attrs["value"], o.text) for o in scopes] == [
        ("personal", "Personal"),
        (team.id, f"Platform ({team.slug})"),
    ]
    created = signed_in.page(
        signed_in.submit(page, "Create token", {"Name": "deploy"}, scope=team.id)
    )
    assert created.status == 201
    assert token_rows(created)[0].all("td")[0].text == "Platform"
    with server.client(secret_on(created)) as api:
        token = api.get("/v5/user/tokens/current").json()["token"]
    assert token["scopes"][0]["type"] == "team"
    assert token["scopes"][0]["teamId"] == team.id


def test_rotate_shows_the_new_secret_once(signed_in: Visitor, server: Server) -> None:
    created = _create(signed_in, "to rotate")
    old_secret = secret_on(created)
    token_id = token_rows(created)[0].attrs["data-token-id"]
    page = signed_in.get("/tokens")
    answer = signed_in.submit(page, "Rotate", within=row_of(page, token_id))
    rotated = signed_in.page(answer)
    assert rotated.status == 200
    assert rotated.response.headers["cache-control"] == "no-store"
    new_secret = secret_on(rotated)
    assert new_secret != old_secret
    assert "The old secret no longer works" in rotated.doc.one(class_="warning").text
    assert _user_of(server, old_secret).status_code == 401
    assert _user_of(server, new_secret).status_code == 200
    ids = [row.attrs["data-token-id"] for row in token_rows(rotated)]
    assert token_id not in ids
    assert row_of(rotated, ids[0]).one("th").text == "to rotate"
    assert new_secret not in signed_in.get("/tokens").html
    assert new_secret not in server.log_path.read_text()


def test_revoke_asks_first(signed_in: Visitor, server: Server) -> None:
    created = _create(signed_in, "to revoke")
    secret = secret_on(created)
    token_id = token_rows(created)[0].attrs["data-token-id"]
    page = signed_in.get("/tokens")
    asked = signed_in.page(signed_in.submit(page, "Revoke", within=row_of(page, token_id)))
    assert asked.status == 200
    assert "to revoke" in asked.doc.one("h1").text
    assert asked.doc.buttons()[-1] == "Revoke token"
    assert _user_of(server, secret).status_code == 200  # asking changed nothing

    answer = signed_in.submit(asked, "Revoke token")
    assert answer.status_code == 303
    after = signed_in.follow(answer)
    assert "was revoked" in after.doc.one(role="status").text
    assert token_id not in [row.attrs["data-token-id"] for row in token_rows(after)]
    assert _user_of(server, secret).status_code == 401

    again = signed_in.submit(asked, "Revoke token")  # the confirmation sent twice
    assert again.status_code == 404
    assert signed_in.get(f"/tokens/{token_id}/revoke").status == 404


def test_someone_elses_token_is_not_found(
    signed_in: Visitor, make_person: Callable[..., Person]
) -> None:
    other = make_person("other")
    page = signed_in.get("/tokens")
    for path in (f"/tokens/{other.account.token_id}/revoke", "/tokens/nonsense/revoke"):
        assert signed_in.get(path).status == 404
        csrf = page.doc.all("input", name="csrf_token")[0].attrs["value"]
        sent = signed_in.http.post(path, data={"csrf_token": csrf})
        assert sent.status_code == 404
        assert "The token was not found." in sent.text
    # A rotate of a token that is not (or no longer) yours leads back to the list, as
    # a rotate sent twice does: the same answer whether the id exists or not.
    for token_id in (other.account.token_id, "nonsense"):
        rotate = signed_in.http.post(f"/tokens/{token_id}/rotate", data={"csrf_token": csrf})
        assert rotate.status_code == 303
        assert rotate.headers["location"] == "/tokens?notice=gone"
    with httpx.Client(base_url=signed_in.http.base_url) as api:
        headers = {"Authorization": f"Bearer {other.account.token}"}
        assert api.get("/v2/user", headers=headers).status_code == 200  # untouched


def test_many_tokens_come_a_page_at_a_time(
    signed_in: Visitor, person: Person, server: Server
) -> None:
    with server.client(person.account.token) as api:
        for number in range(22):
            assert api.post("/v3/user/tokens", json={"name": f"t{number:02}"}).status_code == 200
    first = signed_in.get("/tokens")
    names = [row.one("th").text for row in token_rows(first)]
    assert len(names) == 20
    assert names[:2] == ["t21", "t20"]
    older = first.doc.one("a", rel="next")
    second = signed_in.get(older.attrs["href"])
    more = [row.one("th").text for row in token_rows(second)]
    assert more == ["t01", "t00", "bootstrap"]
    assert not second.doc.all("a", rel="next")
    newer = signed_in.get(second.doc.one("a", rel="prev").attrs["href"])
    assert [row.one("th").text for row in token_rows(newer)] == names


def test_an_expired_token_says_so(signed_in: Visitor, person: Person, server: Server) -> None:
    soon = int(time.time() * 1000) + 1500
    with server.client(person.account.token) as api:
        made = api.post("/v3/user/tokens", json={"name": "short-lived", "expiresAt": soon})
    assert made.status_code == 200
    time.sleep(2)
    row = row_of(signed_in.get("/tokens"), made.json()["token"]["id"])
    expires = row.all("td")[4]
    assert expires.text == "expired just now"
    assert expires.one("span").attrs["class"] == "expired"


def test_a_create_form_sent_twice_makes_one_token(signed_in: Visitor, server: Server) -> None:
    """A reload of the page that showed the secret sends its form again: refused."""
    page = signed_in.get("/tokens")
    fields = {"expiration": "30"}
    first = signed_in.page(signed_in.submit(page, "Create token", {"Name": "once"}, values=fields))
    assert first.status == 201
    count = len(token_rows(first))

    again = signed_in.page(signed_in.submit(page, "Create token", {"Name": "once"}, values=fields))
    assert again.status == 409
    assert not again.doc.all(data_testid="new-token-secret")
    assert "sent twice" in again.html
    assert len(token_rows(again)) == count
    # The form shown with the refusal is a fresh one: sending it makes the token.
    fresh = signed_in.page(signed_in.submit(again, "Create token", values=fields))
    assert fresh.status == 201
    assert len(token_rows(fresh)) == count + 1


def test_a_rotate_form_sent_twice_rotates_once(signed_in: Visitor, server: Server) -> None:
    created = _create(signed_in, "rotate once")
    token_id = token_rows(created)[0].attrs["data-token-id"]
    page = signed_in.get("/tokens")
    first = signed_in.page(signed_in.submit(page, "Rotate", within=row_of(page, token_id)))
    secret = secret_on(first)

    again = signed_in.submit(page, "Rotate", within=row_of(page, token_id))
    assert again.status_code == 303
    after = signed_in.follow(again)
    assert "rotated or revoked already" in after.doc.one(role="status").text
    assert not after.doc.all(data_testid="new-token-secret")
    assert _user_of(server, secret).status_code == 200  # the first successor lives on
    assert [r.one("th").text for r in token_rows(after)].count("rotate once") == 1


def test_rotate_can_keep_the_old_token_working_for_a_while(
    signed_in: Visitor, server: Server
) -> None:
    created = _create(signed_in, "deploy")
    old_secret = secret_on(created)
    token_id = token_rows(created)[0].attrs["data-token-id"]
    page = signed_in.get("/tokens")
    row = row_of(page, token_id)
    choice = row.labelled("Keep the old token working for")
    assert choice.attrs["name"] == "overlap"
    answer = signed_in.submit(page, "Rotate", within=row, overlap="600000")
    rotated = signed_in.page(answer)
    assert rotated.status == 200
    assert "keeps working for 10 minutes more" in rotated.doc.one(class_="warning").text
    assert _user_of(server, old_secret).status_code == 200
    assert _user_of(server, secret_on(rotated)).status_code == 200
    # Still listed (it works), now with an expiry 10 minutes away.
    assert token_id in [row.attrs["data-token-id"] for row in token_rows(rotated)]

    refused = signed_in.submit(page, "Rotate", within=row_of(page, token_id), overlap="7")
    assert refused.status_code == 400


def test_a_token_restricted_to_the_permissions_checked(signed_in: Visitor, server: Server) -> None:
    page = signed_in.get("/tokens")
    assert page.doc.labelled("Full access: everything you can do").attrs["checked"] is not None
    for name in ("tokens:read", "tokens:write", "tokens:rotate-self", "events:read", "user:read"):
        assert page.doc.one("input", name="permissions", value=name)
    answer = signed_in.submit(
        page,
        "Create token",
        {"Name": "read-only"},
        values={"access": "restricted", "permissions": ["tokens:read", "events:read"]},  # type: ignore[dict-item]
    )
    assert answer.status_code == 201, answer.text
    made = Visitor.page(answer)
    secret = secret_on(made)
    with server.client(secret) as api:
        assert api.get("/v6/user/tokens").status_code == 200
        assert api.get("/v2/user").status_code == 403
        current = api.get("/v5/user/tokens/current").json()["token"]
    assert current["permissions"] == ["events:read", "tokens:read"]
    row = row_of(made, current["id"])
    assert row.one(data_testid="token-permissions").text == "only events:read tokens:read"


def test_an_unknown_permission_is_refused_on_the_page(signed_in: Visitor) -> None:
    page = signed_in.get("/tokens")
    answer = signed_in.submit(
        page,
        "Create token",
        {"Name": "x"},
        values={"access": "restricted", "permissions": "nope:x"},
    )
    assert answer.status_code == 400
    assert "Unknown permission: nope:x" in answer.text
