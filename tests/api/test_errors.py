"""Every applicable row of the §5 error table, over real HTTP, on both databases.

Each case checks the status, the code, the exact body shape
``{"error": {"code", "message"}}`` with an English message, and the headers the row
requires. 429 has servers of its own, in test_rate_limit.py.
"""

import contextlib
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import text

from tests.api.assertions import INVALID_TOKEN_CHALLENGE, REALM, assert_error
from tests.api.raw_http import raw_request
from tests.conftest import Account
from tests.support import PG_ADMIN_DSN, Server, postgres_database
from tokend.api.app import create_app
from tokend.bootstrap import Services, bootstrap
from tokend.domain.ids import new_token_id
from tokend.domain.secret import SecretFormat
from tokend.service.clock import system_clock as now_ms
from tokend.settings import Settings
from tokend.storage.migrate import upgrade

MAX_BODY = 64 * 1024
MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
LIFECYCLE_WORDS = ("expired", "revoked", "leaked")


def create_token(api: httpx.Client, query: str = "", **body: Any) -> dict[str, Any]:
    response = api.post(f"/v3/user/tokens{query}", json={"name": "t", **body})
    assert response.status_code == 200, response.text
    return dict(response.json())


def post_raw(api: httpx.Client, content: bytes) -> httpx.Response:
    return api.post(
        "/v3/user/tokens", content=content, headers={"Content-Type": "application/json"}
    )


def unique_slug() -> str:
    return f"team-{uuid.uuid4().hex[:10]}"


# --- 400 bad_request ---------------------------------------------------------------

NOT_JSON_BODIES = [
    pytest.param(b"not json", id="not-json"),
    pytest.param(b'{"name": "x"', id="truncated-object"),
    pytest.param(b"", id="empty-body"),
    pytest.param(b"[]", id="array"),
    pytest.param(b'["name"]', id="array-of-string"),
    pytest.param(b'"name"', id="string"),
    pytest.param(b"42", id="number"),
    pytest.param(b"null", id="null"),
    pytest.param(b"true", id="bool"),
]


@pytest.mark.parametrize("content", NOT_JSON_BODIES)
def test_create_body_not_a_json_object(server: Server, alice: Account, content: bytes) -> None:
    with server.client(alice.token) as api:
        assert_error(post_raw(api, content), 400, "bad_request")


BAD_CREATE_BODIES = [
    pytest.param({}, id="missing-name"),
    pytest.param({"expiresAt": 4_000_000_000_000}, id="only-expiry"),
    pytest.param({"name": ""}, id="empty-name"),
    pytest.param({"name": "   "}, id="spaces-name"),
    pytest.param({"name": "\t\n "}, id="whitespace-name"),
    pytest.param({"name": "n" * 101}, id="name-101-chars"),
    pytest.param({"name": 42}, id="name-number"),
    pytest.param({"name": ["deploy"]}, id="name-list"),
    pytest.param({"name": True}, id="name-bool"),
    pytest.param({"name": None}, id="name-null"),
    pytest.param({"name": {"text": "deploy"}}, id="name-object"),
    pytest.param({"name": "x", "expiresAt": "4000000000000"}, id="expiry-string"),
    pytest.param({"name": "x", "expiresAt": 4_000_000_000_000.5}, id="expiry-float"),
    pytest.param({"name": "x", "expiresAt": True}, id="expiry-bool"),
    pytest.param({"name": "x", "expiresAt": [4_000_000_000_000]}, id="expiry-list"),
    pytest.param({"name": "x", "expiresAt": 1_000_000_000_000}, id="expiry-in-2001"),
    pytest.param({"name": "x", "expiresAt": 0}, id="expiry-zero"),
    pytest.param({"name": "x", "expiresAt": -1}, id="expiry-negative"),
    pytest.param({"name": "x", "expiresAt": 10**30}, id="expiry-10e30"),
    pytest.param({"name": "x", "expiresAt": MAX_TIMESTAMP_MS + 1}, id="expiry-after-9999"),
    pytest.param({"name": "x", "projectId": 42}, id="project-number"),
    pytest.param({"name": "x", "projectId": ["prj"]}, id="project-list"),
    pytest.param({"name": "x", "projectId": True}, id="project-bool"),
    pytest.param({"name": "x", "projectId": ""}, id="project-empty"),
    pytest.param({"name": "x", "projectId": "p" * 257}, id="project-257-chars"),
]


@pytest.mark.parametrize("body", BAD_CREATE_BODIES)
def test_create_with_invalid_fields(server: Server, alice: Account, body: object) -> None:
    # Pydantic rejects most of these, where FastAPI alone would answer 422.
    with server.client(alice.token) as api:
        assert_error(api.post("/v3/user/tokens", json=body), 400, "bad_request")
        assert api.get("/v6/user/tokens").json()["pagination"]["count"] == 1


def test_expiry_a_moment_ago_is_not_in_the_future(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        response = api.post("/v3/user/tokens", json={"name": "x", "expiresAt": now_ms() - 1})
        assert_error(response, 400, "bad_request")


def test_name_limits_are_inclusive(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        assert create_token(api, name="n" * 100)["token"]["name"] == "n" * 100
        assert create_token(api, name="n")["token"]["name"] == "n"
        expires = create_token(api, expiresAt=MAX_TIMESTAMP_MS)["token"]["expiresAt"]
        assert expires == MAX_TIMESTAMP_MS


BAD_LIST_QUERIES = [
    "limit=0",
    "limit=101",
    "limit=abc",
    "limit=-1",
    "limit=1.5",
    "limit=",
    "until=abc",
    "until=-5",
    "until=1.5",
    f"since={10**30}",
    f"until={MAX_TIMESTAMP_MS + 1}",
]


@pytest.mark.parametrize("query", BAD_LIST_QUERIES)
@pytest.mark.parametrize("path", ["/v6/user/tokens", "/v5/user/tokens"])
def test_list_with_bad_query_values(server: Server, alice: Account, path: str, query: str) -> None:
    with server.client(alice.token) as api:
        assert_error(api.get(f"{path}?{query}"), 400, "bad_request")


@pytest.mark.parametrize("query", ["teamId=bad%20id", "teamId=", "slug=", "slug=a/b"])
def test_create_with_bad_team_query(server: Server, alice: Account, query: str) -> None:
    with server.client(alice.token) as api:
        response = api.post(f"/v3/user/tokens?{query}", json={"name": "x"})
        assert_error(response, 400, "bad_request")


# --- 401 missing_token -----------------------------------------------------------

AUTHENTICATED_ENDPOINTS = [
    ("GET", "/v2/user"),
    ("GET", "/v6/user/tokens"),
    ("GET", "/v5/user/tokens"),
    ("GET", "/v5/user/tokens/current"),
    ("DELETE", "/v3/user/tokens/current"),
    ("POST", "/v3/user/tokens"),
]


def call(client: httpx.Client, method: str, path: str) -> httpx.Response:
    body = {"name": "x"} if method == "POST" else None
    return client.request(method, path, json=body)


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED_ENDPOINTS)
@pytest.mark.parametrize(
    "authorization",
    [None, "Basic dXNlcjpwYXNz", "Bearer", "Token tkd_abc", ""],
    ids=["no-header", "basic", "bearer-alone", "other-scheme", "empty-header"],
)
def test_missing_token(server: Server, method: str, path: str, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    with httpx.Client(base_url=server.url, headers=headers) as anonymous:
        response = call(anonymous, method, path)
    assert_error(response, 401, "missing_token", {"WWW-Authenticate": REALM})


@pytest.mark.parametrize("value", [b"Bearer ", b"Bearer   ", b"Bearer \t"])
def test_bearer_with_only_whitespace_is_missing_token(server: Server, value: bytes) -> None:
    # h11 will not send trailing whitespace, so this goes over a bare socket.
    response = raw_request(server.url, b"GET", b"/v2/user", [(b"Authorization", value)])
    assert_error(response, 401, "missing_token", {"WWW-Authenticate": REALM})


# --- 401 invalid_token -----------------------------------------------------------


def assert_invalid_token(response: httpx.Response, secret: str) -> str:
    message = assert_error(
        response, 401, "invalid_token", {"WWW-Authenticate": INVALID_TOKEN_CHALLENGE}
    )
    assert secret not in response.text
    return message.lower()


def malformed_variants(secret: str) -> dict[str, str]:
    last = "A" if secret[-1] != "A" else "B"
    return {
        "wrong-prefix": "ghp_" + secret[4:],
        "no-prefix": secret[4:],
        "one-char-short": secret[:-1],
        "one-char-long": secret + "A",
        "bad-alphabet": secret[:10] + "-" + secret[11:],
        "bad-checksum": secret[:-1] + last,
        "not-a-token": "hello",
    }


@pytest.mark.parametrize(
    "variant",
    ["wrong-prefix", "no-prefix", "one-char-short", "one-char-long", "bad-alphabet",
     "bad-checksum", "not-a-token"],
)  # fmt: skip
def test_malformed_token(server: Server, alice: Account, variant: str) -> None:
    malformed = malformed_variants(alice.token)[variant]
    with server.client(malformed) as api:
        message = assert_invalid_token(api.get("/v2/user"), malformed)
    assert not any(word in message for word in LIFECYCLE_WORDS), message


def test_unknown_token(server: Server) -> None:
    never_issued = SecretFormat().generate()
    with server.client(never_issued) as api:
        message = assert_invalid_token(api.get("/v2/user"), never_issued)
    assert not any(word in message for word in LIFECYCLE_WORDS), message


def test_expired_token(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        expires = now_ms() + 1000
        secret = create_token(api, expiresAt=expires)["bearerToken"]
    time.sleep(max(0, expires - now_ms()) / 1000 + 0.05)
    with server.client(secret) as api:
        assert "expired" in assert_invalid_token(api.get("/v2/user"), secret)


def test_revoked_token(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        made = create_token(api)
        assert api.delete(f"/v3/user/tokens/{made['token']['id']}").status_code == 200
    with server.client(made["bearerToken"]) as api:
        assert "revoked" in assert_invalid_token(api.get("/v2/user"), made["bearerToken"])


def test_leaked_token(server: Server, services: Services, alice: Account) -> None:
    # Marked in the database directly: the leak-report endpoint does not exist yet.
    with services.engine.begin() as conn:
        conn.execute(
            text("UPDATE tokens SET leaked_at = :now, leaked_url = :url WHERE id = :id"),
            {"now": now_ms(), "url": "https://github.com/x/y/blob/main/.env", "id": alice.token_id},
        )
    with server.client(alice.token) as api:
        assert "leaked" in assert_invalid_token(api.get("/v2/user"), alice.token)


def test_invalid_token_on_every_endpoint(server: Server) -> None:
    never_issued = SecretFormat().generate()
    with server.client(never_issued) as api:
        for method, path in AUTHENTICATED_ENDPOINTS:
            assert_invalid_token(call(api, method, path), never_issued)


# --- 403 forbidden ---------------------------------------------------------------


@pytest.mark.parametrize("by", ["teamId", "slug"])
def test_create_for_a_team_you_are_not_in(
    server: Server,
    services: Services,
    make_user: Callable[..., Account],
    alice: Account,
    by: str,
) -> None:
    team = services.admin.create_team(unique_slug(), owner=make_user("bob").username)
    query = f"?teamId={team.id}" if by == "teamId" else f"?slug={team.slug}"
    with server.client(alice.token) as api:
        assert_error(api.post(f"/v3/user/tokens{query}", json={"name": "x"}), 403, "forbidden")
        assert api.get("/v6/user/tokens").json()["pagination"]["count"] == 1


@pytest.mark.parametrize("query", ["?teamId=team_doesnotexist", "?slug=no-such-team"])
def test_create_for_a_team_that_does_not_exist_looks_the_same(
    server: Server, alice: Account, query: str
) -> None:
    # Not 404: whether a team exists must not be probeable.
    with server.client(alice.token) as api:
        assert_error(api.post(f"/v3/user/tokens{query}", json={"name": "x"}), 403, "forbidden")


def test_project_scoped_token_cannot_manage_tokens(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        project = create_token(api, projectId="prj_123")
    own_id = project["token"]["id"]
    with server.client(project["bearerToken"]) as scoped:
        for response in (
            scoped.get("/v6/user/tokens"),
            scoped.get("/v5/user/tokens"),
            scoped.get(f"/v5/user/tokens/{alice.token_id}"),
            scoped.get(f"/v5/user/tokens/{own_id}"),
            scoped.get("/v5/user/tokens/current"),
            scoped.delete(f"/v3/user/tokens/{alice.token_id}"),
            scoped.delete("/v3/user/tokens/current"),
            scoped.post("/v3/user/tokens", json={"name": "x"}),
        ):
            assert_error(response, 403, "forbidden")
        assert scoped.get("/v2/user").status_code == 200  # the refusals changed nothing
    with server.client(alice.token) as api:
        assert api.get("/v6/user/tokens").json()["pagination"]["count"] == 2


def test_team_scoped_token_cannot_create_for_another_team(
    server: Server, services: Services, alice: Account
) -> None:
    own = services.admin.create_team(unique_slug(), owner=alice.username)
    other = services.admin.create_team(unique_slug(), owner=alice.username)
    with server.client(alice.token) as api:
        team_token = create_token(api, query=f"?teamId={own.id}")["bearerToken"]
    with server.client(team_token) as scoped:
        for query in (f"?teamId={other.id}", f"?slug={other.slug}"):
            response = scoped.post(f"/v3/user/tokens{query}", json={"name": "x"})
            assert_error(response, 403, "forbidden")


# --- 404 not_found ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/nope"), ("GET", "/v9/user/tokens"), ("POST", "/v3/user/token"),
     ("GET", "/v5/user/tokens/x/y"), ("DELETE", "/v4/user/tokens/x"), ("GET", "/v2/users")],
)  # fmt: skip
def test_unknown_path(server: Server, alice: Account, method: str, path: str) -> None:
    with server.client(alice.token) as api:
        assert_error(api.request(method, path), 404, "not_found")


def test_unknown_path_does_not_echo_a_secret_in_it(server: Server, alice: Account) -> None:
    # §1: never the secret in an error message, even when the client put it in a URL.
    with server.client(alice.token) as api:
        response = api.get(f"/v9/lookup/{alice.token}")
    assert_error(response, 404, "not_found")
    assert alice.token not in response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v6/user/tokens/"), ("GET", "/v2/user/"), ("POST", "/v3/user/tokens/"),
     ("GET", "/healthz/")],
)  # fmt: skip
def test_a_trailing_slash_is_not_redirected(
    server: Server, alice: Account, method: str, path: str
) -> None:
    # A redirect would build its Location from the Host header the client sent.
    headers = {"Host": "evil.example"}
    with server.client(alice.token) as api:
        response = api.request(method, path, headers=headers, follow_redirects=False)
    assert_error(response, 404, "not_found")
    assert "location" not in response.headers


def assert_not_found_on_get_and_delete(api: httpx.Client, token_id: str) -> None:
    assert_error(api.get(f"/v5/user/tokens/{token_id}"), 404, "not_found")
    assert_error(api.delete(f"/v3/user/tokens/{token_id}"), 404, "not_found")


@pytest.mark.parametrize(
    "token_id",
    [pytest.param("x", id="short"), pytest.param("tkd_abc", id="secret-like"),
     pytest.param("%00", id="nul"), pytest.param(new_token_id(), id="well-formed")],
)  # fmt: skip
def test_unknown_token_id(server: Server, alice: Account, token_id: str) -> None:
    with server.client(alice.token) as api:
        assert_not_found_on_get_and_delete(api, token_id)


def test_another_users_token_is_not_found_never_forbidden(
    server: Server, make_user: Callable[..., Account], alice: Account
) -> None:
    bob = make_user("bob")
    with server.client(alice.token) as api:
        assert_not_found_on_get_and_delete(api, bob.token_id)
    with server.client(bob.token) as api:
        assert api.get("/v5/user/tokens/current").json()["token"]["id"] == bob.token_id


def test_deleted_token_is_not_found(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        token_id = create_token(api)["token"]["id"]
        assert api.delete(f"/v3/user/tokens/{token_id}").json() == {"tokenId": token_id}
        assert_not_found_on_get_and_delete(api, token_id)


def test_team_token_does_not_see_the_users_other_tokens(
    server: Server, services: Services, alice: Account
) -> None:
    team = services.admin.create_team(unique_slug(), owner=alice.username)
    with server.client(alice.token) as api:
        team_token = create_token(api, query=f"?slug={team.slug}")["bearerToken"]
    with server.client(team_token) as scoped:
        assert_not_found_on_get_and_delete(scoped, alice.token_id)


# --- 405 method_unknown ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("PUT", "/v2/user", "GET"), ("PATCH", "/v3/user/tokens/x", "DELETE"),
     ("POST", "/v6/user/tokens", "GET"), ("DELETE", "/v3/user/tokens", "POST"),
     ("PUT", "/v5/user/tokens/current", "GET"), ("POST", "/healthz", "GET")],
)  # fmt: skip
def test_method_unknown(
    server: Server, alice: Account, method: str, path: str, allowed: str
) -> None:
    with server.client(alice.token) as api:
        response = api.request(method, path)
    assert_error(response, 405, "method_unknown")
    assert allowed in response.headers["Allow"].replace(" ", "").split(",")


# --- 413 payload_too_large -------------------------------------------------------


def body_of_size(size: int) -> bytes:
    """A valid create body of exactly ``size`` bytes (the padding is an unknown field)."""
    frame = b'{"name": "big", "padding": ""}'
    return frame[:-2] + b"a" * (size - len(frame)) + frame[-2:]


def chunks(data: bytes, size: int = 8192) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_body_of_64_kib_is_accepted(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        assert post_raw(api, body_of_size(MAX_BODY)).status_code == 200


@pytest.mark.parametrize("size", [MAX_BODY + 1, 10 * MAX_BODY])
def test_body_over_64_kib_with_content_length(server: Server, alice: Account, size: int) -> None:
    with server.client(alice.token) as api:
        response = post_raw(api, body_of_size(size))
        assert response.request.headers["Content-Length"] == str(size)
        assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize("size", [MAX_BODY + 1, 10 * MAX_BODY])
def test_body_over_64_kib_chunked(server: Server, alice: Account, size: int) -> None:
    with server.client(alice.token) as api:
        response = api.post(
            "/v3/user/tokens",
            content=chunks(body_of_size(size)),
            headers={"Content-Type": "application/json"},
        )
        assert response.request.headers["Transfer-Encoding"] == "chunked"
        assert "Content-Length" not in response.request.headers
        assert_error(response, 413, "payload_too_large")
        assert api.get("/v6/user/tokens").json()["pagination"]["count"] == 1


def test_chunked_body_of_64_kib_is_accepted(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        response = api.post(
            "/v3/user/tokens",
            content=chunks(body_of_size(MAX_BODY)),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text


# --- 500 internal_server_error (in-process: no request can cause one) ------------


def test_unexpected_error_is_hidden_behind_a_request_id(
    services: Services, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(Settings(database_url=database_url))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom-secret")

    with (
        caplog.at_level(logging.ERROR, logger="tokend"),
        TestClient(app, raise_server_exceptions=False) as client,
    ):
        response = client.get("/boom")

    message = assert_error(response, 500, "internal_server_error")
    request_id = re.search(r"\b[0-9a-f]{8}-[0-9a-f]{8}\b", message)
    assert request_id, message
    # The id the answer names is the one its X-Request-Id header gives.
    assert response.headers["x-request-id"] == request_id.group()
    assert "boom-secret" not in response.text
    assert "RuntimeError" not in response.text
    # ...but the operator finds the exception in the log under that request id.
    logged = [record for record in caplog.records if request_id.group() in record.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert "boom-secret" in str(logged[0].exc_info[1])


# --- 503 service_unavailable (PostgreSQL) ----------------------------------------


@contextlib.contextmanager
def refusable_connections(database: str) -> Iterator[Callable[[bool], None]]:
    """A switch that stops and restarts connections to ``database``; always left on."""
    name = sql.Identifier(database)
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as admin:

        def allow(allowed: bool) -> None:
            admin.execute(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(name, sql.Literal(allowed))
            )
            if not allowed:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (database,),
                )

        try:
            yield allow
        finally:
            allow(True)


def wait_for_status(api: httpx.Client, path: str, status: int, seconds: float) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        response = api.get(path)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def test_database_unreachable_then_back(backend: str, tmp_path: Path) -> None:
    if backend != "postgresql":
        pytest.skip("an embedded SQLite file cannot become unreachable")
    with postgres_database() as url:
        setup = bootstrap(Settings(database_url=url))
        try:
            upgrade(setup.engine)
            secret = setup.admin.create_user("carol").issued.secret
        finally:
            setup.close()
        database = url.rsplit("/", 1)[1]
        with (
            Server(database_url=url, log_path=tmp_path / "tokend.log") as server,
            server.client(secret) as api,
            refusable_connections(database) as allow,
        ):
            assert api.get("/v2/user").status_code == 200
            allow(False)
            # The token is cached, but a node that cannot hear of revocations stops
            # trusting its cache within a second.
            assert_error(wait_for_status(api, "/v2/user", 503, seconds=5), 503,
                         "service_unavailable")  # fmt: skip
            for response in (
                api.get("/v2/user"),
                api.get("/v6/user/tokens"),
                api.post("/v3/user/tokens", json={"name": "x"}),
                api.get("/readyz"),
            ):
                assert_error(response, 503, "service_unavailable")
            assert api.get("/healthz").status_code == 200  # the process itself is fine

            allow(True)
            assert wait_for_status(api, "/readyz", 200, seconds=5).status_code == 200
            assert api.get("/v2/user").status_code == 200
            assert create_token(api)["token"]["name"] == "t"
