"""`tokend tokens ...` against a live server, on both databases, as a new user would."""

import json
import time

import pytest

from tests.cli.conftest import Holder, one_error_line
from tests.conftest import Account
from tests.support import Server
from tokend.bootstrap import Services
from tokend.domain.scopes import Scope

DAY_MS = 86_400_000


@pytest.fixture
def logged_in(server: Server, alice: Account, holder: Holder) -> Holder:
    holder.login(server, alice)
    return holder


def test_create_with_a_lifetime_prints_the_secret_once(server: Server, logged_in: Holder) -> None:
    result = logged_in.run("tokens", "create", "ci", "--expires", "30d")

    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip()  # stdout holds the secret and nothing else
    assert secret.startswith("tkd_")
    assert len(secret) == 40
    assert "cannot be shown again" in result.stderr
    assert "'ci'" in result.stderr
    assert "expires in 30 days" in result.stderr  # not 29: 30 days less a few seconds
    with server.client(secret) as http:
        token = http.get("/v5/user/tokens/current").json()["token"]
    assert abs(token["expiresAt"] - (time.time() * 1000 + 30 * DAY_MS)) < 60_000


def test_create_json_is_the_api_answer_only(server: Server, logged_in: Holder) -> None:
    result = logged_in.run("tokens", "create", "deploy", "--expires", "12h", "--format", "json")

    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert set(body) == {"token", "bearerToken"}
    assert body["token"]["name"] == "deploy"
    assert abs(body["token"]["expiresAt"] - (time.time() * 1000 + DAY_MS / 2)) < 60_000
    with server.client(body["bearerToken"]) as http:
        assert http.get("/v2/user").status_code == 200


def test_create_for_a_team_by_slug(
    server: Server, services: Services, alice: Account, logged_in: Holder
) -> None:
    team = services.admin.create_team(f"t-{alice.username}", owner=alice.username)

    result = logged_in.run("tokens", "create", "deploy", "--team", team.slug, "--format", "json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["token"]["scopes"][0]["teamId"] == team.id


def test_create_restricted_to_permissions(server: Server, logged_in: Holder) -> None:
    result = logged_in.run(
        "tokens", "create", "reader", "--permission", "tokens:read", "--permission", "user:read"
    )

    assert result.returncode == 0, result.stderr
    assert "only tokens:read user:read" in result.stderr
    with server.client(result.stdout.strip()) as http:
        token = http.get("/v5/user/tokens/current").json()["token"]
        assert token["permissions"] == ["tokens:read", "user:read"]
        assert http.get("/v1/user/events").status_code == 403
    listed = logged_in.run("tokens", "ls")
    assert "only tokens:read user:read" in listed.stdout


def test_create_with_an_unknown_permission_says_so(logged_in: Holder) -> None:
    result = logged_in.run("tokens", "create", "x", "--permission", "nope:read")
    assert "Unknown permission: nope:read" in one_error_line(result)


@pytest.mark.parametrize(
    ("expires", "complaint"),
    [("30x", "use a lifetime such as"), ("2001-01-01", "in the future")],
)
def test_a_bad_expiry_is_a_usage_error(logged_in: Holder, expires: str, complaint: str) -> None:
    result = logged_in.run("tokens", "create", "ci", "--expires", expires)
    assert result.returncode == 2
    assert complaint in result.stderr


def test_a_name_the_server_refuses_is_one_line(logged_in: Holder) -> None:
    assert "name" in one_error_line(logged_in.run("tokens", "create", "x" * 101))


def test_ls_table_and_json(alice: Account, logged_in: Holder) -> None:
    made = logged_in.run("tokens", "create", "laptop", "--expires", "30d", "--format", "json")
    laptop = json.loads(made.stdout)["token"]

    table = logged_in.run("tokens", "ls")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["name", "id", "scope", "created", "last", "used", "expires"]
    assert lines[1].split() == ["laptop", laptop["id"], "user", "just", "now", "just", "now",
                                "in", "30", "days"]  # fmt: skip
    assert lines[2].split()[:3] == ["bootstrap", alice.token_id, "user"]
    assert lines[2].split()[-1] == "never"

    listed = logged_in.run("tokens", "ls", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    tokens = json.loads(listed.stdout)  # a JSON array of AuthTokens and nothing else
    assert [token["id"] for token in tokens] == [laptop["id"], alice.token_id]
    assert tokens[0] == laptop

    newest = json.loads(logged_in.run("tokens", "ls", "--limit", "1", "--format", "json").stdout)
    assert [token["id"] for token in newest] == [laptop["id"]]


def test_ls_shows_every_page(services: Services, alice: Account, logged_in: Holder) -> None:
    # More than the largest page (100); made in-process to keep the test quick.
    with services.tokens.uow(write=True) as uow:
        for i in range(104):
            services.tokens.issue(uow, user_id=alice.user_id, name=f"bulk {i}", scope=Scope.user())
        uow.commit()

    tokens = json.loads(logged_in.run("tokens", "ls", "--format", "json").stdout)

    assert len({token["id"] for token in tokens}) == 105


def test_show_by_id_and_current(alice: Account, logged_in: Holder) -> None:
    shown = logged_in.run("tokens", "show", "current")
    assert shown.returncode == 0, shown.stderr
    rows = dict(line.split(maxsplit=1) for line in shown.stdout.splitlines() if line.strip())
    assert rows["name"].strip() == "bootstrap"
    assert rows["id"].strip() == alice.token_id
    assert rows["secret"].strip() == f"tkd_…{alice.token[-4:]}"
    assert rows["expires"].strip() == "never"

    by_id = logged_in.run("tokens", "show", alice.token_id, "--format", "json")
    assert json.loads(by_id.stdout)["id"] == alice.token_id


def test_rm_revokes_after_confirmation(server: Server, logged_in: Holder) -> None:
    made = json.loads(logged_in.run("tokens", "create", "old", "--format", "json").stdout)
    token_id = made["token"]["id"]

    unconfirmed = logged_in.run("tokens", "rm", token_id)  # stdin is a pipe: nobody to ask
    assert "--yes" in one_error_line(unconfirmed, status=2)

    removed = logged_in.run("tokens", "rm", token_id, "--yes")
    assert removed.returncode == 0, removed.stderr
    assert f"Revoked {token_id}." in removed.stdout
    with server.client(made["bearerToken"]) as http:
        assert http.get("/v2/user").status_code == 401
    assert one_error_line(logged_in.run("tokens", "show", token_id))


def test_rm_of_an_unknown_id_fails_but_revokes_the_rest(server: Server, logged_in: Holder) -> None:
    made = json.loads(logged_in.run("tokens", "create", "old", "--format", "json").stdout)
    unknown = "x" * 24

    result = logged_in.run("tokens", "rm", unknown, made["token"]["id"], "--yes")

    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {unknown}: ")
    assert f"Revoked {made['token']['id']}." in result.stdout
    with server.client(made["bearerToken"]) as http:
        assert http.get("/v2/user").status_code == 401


def test_a_secret_given_as_an_id_is_refused_before_sending(
    alice: Account, logged_in: Holder
) -> None:
    for args in (("show", alice.token), ("rm", alice.token, "--yes")):
        result = logged_in.run("tokens", *args)
        assert result.returncode == 2
        assert "secret, not its id" in result.stderr
        assert alice.token not in result.stdout + result.stderr
    assert logged_in.run("whoami").returncode == 0  # and the token still works


def test_commands_after_the_token_was_revoked(logged_in: Holder) -> None:
    assert logged_in.run("tokens", "rm", "current", "--yes").returncode == 0

    for args in (("ls",), ("show", "current"), ("create", "again")):
        error = one_error_line(logged_in.run("tokens", *args))
        assert "revoked" in error


def test_rotate_prints_the_new_secret(server: Server, logged_in: Holder) -> None:
    made = json.loads(logged_in.run("tokens", "create", "old", "--format", "json").stdout)
    result = logged_in.run("tokens", "rotate", made["token"]["id"])
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip()
    assert secret.startswith("tkd_")
    assert "Rotated" in result.stderr
    with server.client(secret) as api:
        assert api.get("/v5/user/tokens/current").json()["token"]["name"] == "old"
    with server.client(made["bearerToken"]) as api:
        assert api.get("/v2/user").status_code == 401


def test_rotate_current_keeps_the_login(server: Server, alice: Account, logged_in: Holder) -> None:
    result = logged_in.run("tokens", "rotate", "current")
    assert result.returncode == 0, result.stderr
    assert "tkd_" not in result.stdout + result.stderr  # saved, not shown
    assert alice.token not in logged_in.config_file.read_text()
    assert logged_in.run("whoami").returncode == 0  # logged in with the new token
    with server.client(alice.token) as api:
        assert api.get("/v2/user").status_code == 401


def test_events_table_and_json(alice: Account, logged_in: Holder) -> None:
    logged_in.run("tokens", "create", "audited")
    table = logged_in.run("events")
    assert table.returncode == 0, table.stderr
    assert "token.created" in table.stdout
    assert "audited" in table.stdout
    listed = json.loads(logged_in.run("events", "--limit", "1", "--format", "json").stdout)
    assert [(e["type"], e["token"]["name"]) for e in listed] == [("token.created", "audited")]


def test_rotate_with_overlap_keeps_the_old_token_for_a_while(
    server: Server, logged_in: Holder
) -> None:
    made = json.loads(logged_in.run("tokens", "create", "deploy", "--format", "json").stdout)
    result = logged_in.run("tokens", "rotate", made["token"]["id"], "--overlap", "10m")
    assert result.returncode == 0, result.stderr
    assert "keeps working for 10 minutes more" in result.stderr
    with server.client(made["bearerToken"]) as api:
        assert api.get("/v2/user").status_code == 200
        old = api.get("/v5/user/tokens/current").json()["token"]
    assert 0 < old["expiresAt"] - time.time() * 1000 <= 600_000
    for bad in ("25h", "0s", "soon"):
        refused = logged_in.run("tokens", "rotate", made["token"]["id"], "--overlap", bad)
        assert refused.returncode == 2, bad
        assert "--overlap" in refused.stderr
