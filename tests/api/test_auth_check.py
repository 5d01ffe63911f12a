"""GET /v1/auth/check (any method), the gateway check, over real HTTP on both databases:
the identity headers, the route and its shortcut answering the same bytes, permissions
asked for, and what a hostile client can send."""

import uuid
from collections.abc import Callable

import httpx
from starlette.types import Message, Scope

from tests.api.assertions import assert_error
from tests.api.raw_http import raw_request, wire
from tests.api.shortcut_harness import bearer, run_shortcuts
from tests.conftest import Account
from tests.support import Server, eventually
from tokend.api.routes.check import _header_value
from tokend.bootstrap import Services
from tokend.domain.secret import SecretFormat
from tokend.service.tokens import TeamRef

PATH = "/v1/auth/check"
METHODS = [b"GET", b"HEAD", b"POST", b"PUT", b"PATCH", b"DELETE", b"OPTIONS", b"PROPFIND"]
IDENTITY = [
    "x-tokend-user-id",
    "x-tokend-username",
    "x-tokend-token-id",
    "x-tokend-team-id",
    "x-tokend-permissions",
]


def check(
    server: Server, token: str | None, query: str = "", method: bytes = b"GET"
) -> httpx.Response:
    headers = [(b"Authorization", f"Bearer {token}".encode())] if token else []
    return raw_request(server.url, method, f"{PATH}{query}".encode(), headers)


def catalogue(services: Services) -> str:
    """A fresh permission in the instance's catalogue."""
    name = f"check{uuid.uuid4().hex[:8]}:read"
    services.permissions.add(name, "Read things, for the gateway tests.")
    return name


def test_a_live_token_passes_with_its_identity(server: Server, alice: Account) -> None:
    answer = check(server, alice.token)
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["cache-control"] == "no-store"
    assert [answer.headers[name] for name in IDENTITY] == [
        alice.user_id,
        alice.username,
        alice.token_id,
        "",  # a personal token: present, empty
        "*",
    ]


def test_a_team_and_a_restricted_token_say_so(
    server: Server, services: Services, alice: Account
) -> None:
    team = services.admin.create_team(f"t-{uuid.uuid4().hex[:8]}", owner=alice.username)
    full = services.authenticator.authenticate(alice.token)
    made = services.tokens.create(
        full, name="ci", team=TeamRef(team_id=team.id), permissions=["tokens:read", "user:read"]
    )
    for _ in range(3):  # a miss, then hits
        answer = check(server, made.secret)
        assert answer.status_code == 200
        assert answer.headers["x-tokend-team-id"] == team.id
        assert answer.headers["x-tokend-token-id"] == made.token.id
        assert answer.headers["x-tokend-permissions"] == "tokens:read user:read"


def test_route_and_shortcut_answer_the_same_bytes(
    server: Server, services: Services, make_user: Callable[..., Account]
) -> None:
    name = catalogue(services)
    owner = make_user("bytes")
    full = services.authenticator.authenticate(owner.token)
    restricted = services.tokens.create(full, name="r", permissions=["user:read"]).secret
    for token, query in (
        (make_user("plain").token, ""),
        (make_user("asks").token, f"?permission={name}&permission=user:read"),
        (restricted, f"?permission={name}"),  # 403
        (services.tokens.create(full, name="r2", permissions=[name]).secret, f"?permission={name}"),
    ):
        # The server has never seen the token: the first answer comes from the route,
        # the next ones (a plain cache hit by then) from the shortcut.
        answers = [wire(check(server, token, query)) for _ in range(3)]
        assert answers[0][0] in (200, 403)
        assert answers[1:] == [answers[0], answers[0]], query


def test_every_method_is_answered_alike(server: Server, make_user: Callable[..., Account]) -> None:
    for method in METHODS:
        fresh = make_user("method")  # a first request of each method is a miss
        answers = [check(server, fresh.token, method=method) for _ in range(2)]
        for answer in answers:
            assert answer.status_code == 200, (method, answer.text)
            assert answer.headers["x-tokend-user-id"] == fresh.user_id
            assert answer.content == b""
        refused = check(server, None, method=method)
        assert refused.status_code == 401, method
        if method == b"HEAD":
            assert refused.content == b""  # a HEAD answer has no body
        else:
            assert refused.json()["error"]["code"] == "missing_token"


def test_refusals_are_those_of_every_endpoint(server: Server, alice: Account) -> None:
    unknown = SecretFormat().generate()
    for token in (None, unknown, "tkd_" + "0" * 36, "not a token"):
        mine, theirs = check(server, token), raw_request(
            server.url, b"GET", b"/v2/user",
            [(b"Authorization", f"Bearer {token}".encode())] if token else [],
        )  # fmt: skip
        assert mine.status_code == 401
        assert (mine.content, mine.headers["www-authenticate"]) == (
            theirs.content,
            theirs.headers["www-authenticate"],
        )
        assert not any(name in mine.headers for name in IDENTITY)


def test_a_revoked_token_stops_passing_at_once(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        made = api.post("/v3/user/tokens", json={"name": "gone soon"}).json()
        assert [check(server, made["bearerToken"]).status_code for _ in range(3)] == [200] * 3
        api.delete(f"/v3/user/tokens/{made['token']['id']}")
    assert eventually(lambda: check(server, made["bearerToken"]).status_code == 401, 1.0)


def test_permissions_asked_for_are_each_required(
    server: Server, services: Services, alice: Account
) -> None:
    read, write = catalogue(services), catalogue(services)
    full = services.authenticator.authenticate(alice.token)
    reader = services.tokens.create(full, name="reader", permissions=[read]).secret
    for token, query, status in (
        (alice.token, f"?permission={read}", 200),  # unrestricted: holds them all
        (alice.token, f"?permission={read}&permission={write}", 200),
        (reader, f"?permission={read}", 200),
        (reader, f"?permission={read.replace(':', '%3A')}", 200),
        (reader, f"?permission={write}", 403),
        (reader, f"?permission={read}&permission={write}", 403),
        (reader, "?permission=user:read", 403),  # tokend's own names are known too
        (reader, "", 200),  # the check itself needs no permission
    ):
        for _ in range(3):  # a miss first, then hits
            answer = check(server, token, query)
            assert answer.status_code == status, (query, answer.text)
    refused = check(server, reader, f"?permission={read}&permission={write}")
    assert_error(refused, 403, "forbidden")
    assert refused.json()["error"]["message"] == f"This token lacks the permission {write}."
    assert not any(name in refused.headers for name in IDENTITY)


def test_unknown_or_malformed_permissions_are_refused(
    server: Server, services: Services, alice: Account
) -> None:
    later = f"later{uuid.uuid4().hex[:8]}:read"
    for query, says in (
        (f"?permission={later}", "Unknown permission"),
        ("?permission=Deployments:Read", "not a permission name"),
        ("?permission=", "not a permission name"),
        ("?permission", "not a permission name"),
        ("?permission=" + "a" * 4000, "not a permission name"),
        ("?permission=%ff%fe", "not a permission name"),
        ("?permission=a%0d%0aX-Tokend-User-Id:%20admin", "not a permission name"),
        ("?permisson=user:read", "only query parameter"),  # a typo must not let all by
        ("?permission=user:read&x=1", "only query parameter"),
        ("?" + "&".join(["permission=user:read"] * 51), "At most 50"),
        ("?" + "&" * 5000, "At most 50"),
    ):
        for _ in range(2):  # a miss, then a hit
            answer = check(server, alice.token, query)
            assert_error(answer, 400, "bad_request")
            assert says in answer.json()["error"]["message"], query
    # A secret pasted as a name is not said back.
    answer = check(server, alice.token, f"?permission={alice.token}")
    assert_error(answer, 400, "bad_request")
    assert alice.token not in answer.text
    assert alice.token[:16] not in answer.text
    # A name added to the catalogue is known from then on, without a restart.
    services.permissions.add(later, "Added after the first check.")
    assert check(server, alice.token, f"?permission={later}").status_code == 200
    # Without a live token, nothing is said about names: 401 first.
    assert check(server, None, "?permission=nothing:known").status_code == 401


def test_a_path_below_the_check_is_the_check(
    server: Server, services: Services, alice: Account
) -> None:
    # Envoy's ext_authz appends the original request's path and query to the check's.
    full = services.authenticator.authenticate(alice.token)
    reader = services.tokens.create(full, name="reader", permissions=["user:read"]).secret
    for token, target, status in (
        (alice.token, "/api/deployments", 200),
        (alice.token, "/api/deployments?page=2&sort=name", 200),  # the client's: ignored
        (alice.token, "/", 200),
        (reader, "/api/x?permission=user:read", 200),  # a permission named is read as usual
        (reader, "/api/x?permission=tokens:read", 403),
        (reader, "/api/x?permission=user:read&page=2", 400),
        (None, "/api/deployments", 401),
        (SecretFormat().generate(), "/api/deployments", 401),
    ):
        for method in (b"GET", b"POST"):
            for _ in range(2):  # a miss, then a hit
                answer = check(server, token, target, method)
                assert answer.status_code == status, (target, method, answer.text)
                if status == 200:
                    assert answer.headers["x-tokend-user-id"] == alice.user_id
    # Only below it: /v1/auth/checks is no path of tokend's.
    assert raw_request(server.url, b"GET", b"/v1/auth/checks").status_code == 404


def test_a_name_removed_from_the_catalogue_still_passes_its_holders(
    server: Server, services: Services, alice: Account
) -> None:
    name = catalogue(services)
    full = services.authenticator.authenticate(alice.token)
    holder = services.tokens.create(full, name="holder", permissions=[name]).secret
    services.permissions.remove(name)  # before the server ever heard of it
    for _ in range(2):
        assert check(server, holder, f"?permission={name}").status_code == 200
        assert_error(check(server, alice.token, f"?permission={name}"), 400, "bad_request")


def test_hostile_requests_never_fail_the_server(server: Server, alice: Account) -> None:
    hostile: list[tuple[bytes, list[tuple[bytes, bytes]]]] = [
        (b"/v1/auth/check", [(b"Authorization", b"Bearer " + b"\xff" * 40)]),
        (b"/v1/auth/check", [(b"Authorization", b"Bearer " + b"A" * 8000)]),
        (b"/v1/auth/check", [(b"Authorization", b"Basic " + alice.token.encode())]),
        (b"/v1/auth/check", [(b"Authorization", b"Bearer"), (b"Authorization", b"Bearer x")]),
        (b"/v1/auth/check", [(b"X-Tokend-User-Id", b"usr_admin")]),
        (b"/v1/auth/check?%", [(b"Authorization", f"Bearer {alice.token}".encode())]),
        (b"/v1/auth/check?=&&=", [(b"Authorization", f"Bearer {alice.token}".encode())]),
        (b"/v1/auth/check/", [(b"Authorization", f"Bearer {alice.token}".encode())]),
        (b"/v1/auth/check?permission=%00", [(b"Authorization", f"Bearer {alice.token}".encode())]),
    ]
    for target, headers in hostile:
        answer = raw_request(server.url, b"GET", target, headers)
        assert answer.status_code < 500, (target, answer.status_code, answer.text)
        if answer.status_code == 200:  # only the live token's own identity, ever
            assert answer.headers["x-tokend-user-id"] == alice.user_id


def test_header_values_cannot_be_split() -> None:
    assert _header_value("usr_1") == b"usr_1"
    assert _header_value("deployments:read user:read") == b"deployments:read user:read"
    for hostile in ("ada\r\nX-Tokend-User-Id: usr_admin", "ada\n", "ada\x00", "ädä"):
        value = _header_value(hostile)
        assert value.isascii()
        assert not any(byte < 0x20 or byte == 0x7F for byte in value)


def call(services: Services, scope: Scope) -> tuple[list[Message], list[Scope]]:
    return run_shortcuts(services, {"path": PATH, **scope})


def test_shortcut_answers_only_plain_cache_hits(
    services: Services, make_user: Callable[..., Account]
) -> None:
    secret = make_user("short").token
    sent, passed_on = call(services, {"headers": bearer(secret), "method": "PUT"})
    assert len(sent) == 0
    assert [scope["method"] for scope in passed_on] == ["GET"]  # routed as the GET route

    services.authenticator.authenticate(secret)  # what the route does on that miss
    for method, path in (("GET", PATH), ("POST", PATH), ("HEAD", PATH), ("PROPFIND", PATH),
                         ("GET", PATH + "/"), ("DELETE", PATH + "/api/x")):  # fmt: skip
        sent, passed_on = call(
            services, {"headers": bearer(secret), "method": method, "path": path}
        )
        assert passed_on == []
        assert sent[0]["status"] == 200
        assert dict(sent[0]["headers"])[b"x-tokend-permissions"] == b"*"

    unknown = f"never{uuid.uuid4().hex[:8]}:read"
    others: list[Scope] = [
        {"headers": bearer(secret), "query_string": f"permission={unknown}".encode()},
        {"headers": bearer(secret), "query_string": b"permission=Bad"},
        {"headers": bearer(secret), "path": PATH + "x"},
        {"headers": bearer(secret), "path": "/v1/auth"},
        {"headers": []},
        {"headers": bearer(secret[:-1] + ("x" if secret[-1] != "x" else "y"))},
    ]
    for other in others:
        sent, passed_on = call(services, other)
        assert (len(sent), len(passed_on)) == (0, 1), other


def test_openapi_documents_the_check(server: Server) -> None:
    operations = httpx.get(f"{server.url}/openapi.json").json()["paths"][PATH]
    assert list(operations) == ["get"]  # one operation: every method answers as GET
    get = operations["get"]
    assert get["security"] == [{"HTTPBearer": []}]
    assert set(get["responses"]) >= {"200", "400", "401", "403", "429"}
    assert {name.lower() for name in get["responses"]["200"]["headers"]} == set(IDENTITY)
    assert [parameter["name"] for parameter in get["parameters"]] == ["permission"]
