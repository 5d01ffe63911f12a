"""deploy/nginx/tokend.conf, run by a real nginx (only its addresses substituted) in
front of tokend and an upstream that echoes what it receives: the upstream sees who
is calling and nothing a client forged; a refused request never reaches it, and the
client gets tokend's own answer."""

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.api.assertions import INVALID_TOKEN_CHALLENGE, REALM, assert_error
from tests.api.raw_http import raw_request
from tests.conftest import Account
from tests.deploy import proxy
from tests.deploy.proxy import (
    SHIPPED,
    EchoUpstream,
    Nginx,
    Seen,
    check_config,
    main_config,
    tokend_headers,
    write_config,
)
from tests.support import Server
from tokend.bootstrap import Services
from tokend.domain.secret import SecretFormat
from tokend.service.tokens import TeamRef

IDENTITY = ("x-tokend-user-id", "x-tokend-username", "x-tokend-token-id",
            "x-tokend-team-id", "x-tokend-permissions")  # fmt: skip


def through(gateway: Nginx, path: str = "/orders/7", token: str | None = None,
            method: str = "GET", **kwargs: object) -> httpx.Response:  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        return client.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]


def direct_check(server: Server, token: str | None = None, query: str = "") -> httpx.Response:
    with server.client(token) as api:
        return api.get(f"/v1/auth/check{query}")


def last_seen(echo: EchoUpstream, count_before: int) -> Seen:
    assert len(echo.seen) == count_before + 1, "the upstream should have seen one request"
    return echo.seen[-1]


def assert_same_refusal(through_nginx: httpx.Response, from_tokend: httpx.Response) -> None:
    """The client gets tokend's answer: status, JSON body, and the headers that matter."""
    assert through_nginx.status_code == from_tokend.status_code, through_nginx.text
    assert through_nginx.headers["content-type"] == from_tokend.headers["content-type"]
    assert through_nginx.content == from_tokend.content
    for name in ("www-authenticate", "retry-after"):
        assert through_nginx.headers.get_list(name) == from_tokend.headers.get_list(name), name
    # tokend's identity headers never go to a client that was refused.
    assert not [name for name in through_nginx.headers if name.lower().startswith("x-tokend-")]


def test_nginx_t_passes_on_the_shipped_configuration(tmp_path: Path) -> None:
    # As shipped: the compose network's fixed addresses need no name resolution.
    config = write_config(tmp_path, SHIPPED.read_text())
    checked = check_config(config)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_nginx_t_fails_on_a_broken_configuration(tmp_path: Path) -> None:
    # So that the test above means something.
    broken = SHIPPED.read_text().replace("auth_request_set", "auth_request_sett", 1)
    checked = check_config(write_config(tmp_path, broken))
    assert checked.returncode != 0
    assert "auth_request_sett" in checked.stderr


def test_no_token_is_tokend_s_401_and_never_reaches_the_upstream(
    gateway: Nginx, server: Server, echo: EchoUpstream
) -> None:
    before = len(echo.seen)
    for method in ("GET", "POST", "DELETE"):
        answer = through(gateway, method=method, content=b"{}" if method == "POST" else None)
        assert_error(answer, 401, "missing_token", {"www-authenticate": REALM})
        assert_same_refusal(answer, direct_check(server))
    assert len(echo.seen) == before


@pytest.mark.parametrize(
    "token",
    ["not-a-token", SecretFormat().generate(), "tkd_" + "A" * 400, "x" * 3000],
    ids=["garbage", "never issued", "long", "huge"],
)
def test_a_bad_token_is_tokend_s_401_and_never_reaches_the_upstream(
    gateway: Nginx, server: Server, echo: EchoUpstream, token: str
) -> None:
    before = len(echo.seen)
    answer = through(gateway, token=token)
    assert_error(answer, 401, "invalid_token", {"www-authenticate": INVALID_TOKEN_CHALLENGE})
    assert_same_refusal(answer, direct_check(server, token))
    assert len(echo.seen) == before
    assert token not in answer.text


def test_tokend_s_other_refusals_pass_through_too(
    gateway: Nginx, server: Server, echo: EchoUpstream
) -> None:
    # A token nginx takes (its header lines may be 8 KiB) but whose check request is
    # past tokend's 8 KiB head: tokend's 431, as it is, not nginx's 500 or 502.
    token = "x" * 8100
    before = len(echo.seen)
    answer = through(gateway, token=token)
    assert_error(answer, 431, "request_header_fields_too_large")
    assert_same_refusal(answer, direct_check(server, token))
    assert len(echo.seen) == before


def test_a_head_request_without_a_token_is_a_bodyless_401(
    gateway: Nginx, echo: EchoUpstream
) -> None:
    before = len(echo.seen)
    answer = through(gateway, method="HEAD")
    assert answer.status_code == 401
    assert answer.headers.get_list("www-authenticate") == [REALM]
    assert answer.content == b""
    assert len(echo.seen) == before


def test_a_live_token_reaches_the_upstream_with_who_it_is(
    gateway: Nginx, echo: EchoUpstream, alice: Account
) -> None:
    before = len(echo.seen)
    answer = through(gateway, "/orders/7?x=1", alice.token, method="POST", content=b"payload")
    assert answer.status_code == 200, answer.text
    seen = last_seen(echo, before)
    assert (seen.method, seen.path, seen.body) == ("POST", "/orders/7?x=1", b"payload")
    assert tokend_headers(seen) == {
        "x-tokend-user-id": [alice.user_id],
        "x-tokend-username": [alice.username],
        "x-tokend-token-id": [alice.token_id],
        "x-tokend-permissions": ["*"],
    }
    # The application is told who, never given the secret.
    assert seen.values("authorization") == []
    assert not [value for _, value in seen.headers if alice.token in value]
    assert seen.values("x-forwarded-for") == ["127.0.0.1"]
    assert len(seen.values("x-request-id")) == 1


def test_a_team_token_names_its_team(
    gateway: Nginx, echo: EchoUpstream, services: Services, alice: Account
) -> None:
    team = services.admin.create_team(f"t-{uuid.uuid4().hex[:10]}", owner=alice.username)
    issued = services.tokens.create(
        services.authenticator.authenticate(alice.token), name="team", team=TeamRef(team.id)
    )
    before = len(echo.seen)
    assert through(gateway, token=issued.secret).status_code == 200
    seen = last_seen(echo, before)
    assert tokend_headers(seen)["x-tokend-team-id"] == [team.id]
    assert tokend_headers(seen)["x-tokend-token-id"] == [issued.token.id]


FORGED_NAMES = [
    "X-Tokend-User-Id", "x-tokend-user-id", "X-TOKEND-USER-ID", "x-ToKeNd-UsEr-Id",
]  # fmt: skip


def test_forged_identity_headers_never_reach_the_upstream(
    gateway: Nginx, echo: EchoUpstream, alice: Account
) -> None:
    # Every spelling of every identity header, each twice; X-Tokend-Team-Id, which
    # tokend does not send for a personal token, included; and the underscore
    # spelling that CGI-style frameworks read as the same header.
    forged: list[tuple[bytes, bytes]] = []
    for name in IDENTITY:
        for spelling in (name, name.upper(), name.title(), name.swapcase().title().swapcase()):
            forged += [(spelling.encode(), b"u_forged"), (spelling.encode(), b"u_forged2")]
    forged += [(name.encode(), b"u_forged") for name in FORGED_NAMES]
    forged += [(b"X_Tokend_User_Id", b"u_forged"), (b"x_tokend_team_id", b"team_forged")]
    before = len(echo.seen)
    answer = raw_request(
        gateway.url, b"GET", b"/orders/7",
        [(b"Authorization", f"Bearer {alice.token}".encode()), *forged],
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    seen = last_seen(echo, before)
    assert tokend_headers(seen) == {
        "x-tokend-user-id": [alice.user_id],
        "x-tokend-username": [alice.username],
        "x-tokend-token-id": [alice.token_id],
        "x-tokend-permissions": ["*"],
    }
    assert not [value for _, value in seen.headers if "forged" in value]


def test_forged_headers_without_a_token_are_still_refused(
    gateway: Nginx, echo: EchoUpstream, alice: Account
) -> None:
    before = len(echo.seen)
    answer = raw_request(
        gateway.url, b"GET", b"/orders/7",
        [(b"X-Tokend-User-Id", alice.user_id.encode()),
         (b"X-Tokend-Username", alice.username.encode())],
    )  # fmt: skip
    assert_error(answer, 401, "missing_token")
    assert len(echo.seen) == before


def test_two_authorization_headers_are_refused_by_nginx(
    gateway: Nginx, echo: EchoUpstream, alice: Account
) -> None:
    # Which one would count is a question nobody should have to answer.
    before = len(echo.seen)
    answer = raw_request(
        gateway.url, b"GET", b"/orders/7",
        [(b"Authorization", f"Bearer {alice.token}".encode()),
         (b"Authorization", b"Bearer tkd_other")],
    )  # fmt: skip
    assert answer.status_code == 400
    assert len(echo.seen) == before


def test_a_revoked_token_is_refused_through_nginx_within_one_second(
    gateway: Nginx, server: Server, echo: EchoUpstream, make_user: Callable[..., Account]
) -> None:
    user = make_user("revoked")
    assert through(gateway, token=user.token).status_code == 200  # cached by the node
    with server.client(user.token) as api:
        assert api.delete("/v3/user/tokens/current").status_code == 200
    revoked_at = time.monotonic()
    while (answer := through(gateway, token=user.token)).status_code == 200:
        assert time.monotonic() - revoked_at < 1.0, "still let through a second later"
    before = len(echo.seen)
    assert_error(answer, 401, "invalid_token")
    assert_same_refusal(through(gateway, token=user.token), direct_check(server, user.token))
    assert len(echo.seen) == before


def test_a_location_that_needs_a_permission_refuses_a_token_without_it(
    gateway: Nginx, server: Server, echo: EchoUpstream, services: Services, alice: Account
) -> None:
    # The shipped /admin/ location asks tokend for tokens:write.
    full = services.authenticator.authenticate(alice.token)
    reader = services.tokens.create(full, name="reader", permissions=["tokens:read"]).secret
    before = len(echo.seen)
    refused = through(gateway, "/admin/users", reader)
    assert_error(refused, 403, "forbidden")
    assert_same_refusal(refused, direct_check(server, reader, "?permission=tokens:write"))
    assert len(echo.seen) == before
    # The same token elsewhere, and an unrestricted one here, pass.
    assert through(gateway, "/orders", reader).status_code == 200
    assert tokend_headers(echo.seen[-1])["x-tokend-permissions"] == ["tokens:read"]
    assert through(gateway, "/admin/users", alice.token).status_code == 200
    assert echo.seen[-1].path == "/admin/users"


@pytest.mark.parametrize("status", [401, 403, 429, 500, 503])
def test_the_application_s_own_errors_reach_the_client_as_they_are(
    gateway: Nginx, echo: EchoUpstream, alice: Account, status: int
) -> None:
    # error_page 401 403 500 is for the check's answers only: the application's own
    # must never be replaced by tokend's (or by a second check that would pass).
    before = len(echo.seen)
    answer = through(gateway, f"/status/{status}", alice.token)
    assert answer.status_code == status
    assert answer.json()["path"] == f"/status/{status}"
    assert len(echo.seen) == before + 1


def test_the_check_s_locations_cannot_be_requested(
    gateway: Nginx, echo: EchoUpstream, alice: Account
) -> None:
    before = len(echo.seen)
    for path in ("/_tokend/check", "/_tokend/check?permission=x", "/@tokend_refused"):
        answer = through(gateway, path, alice.token)
        # Internal: nginx's 404 when asked from outside, never the check's 200 and
        # headers; the named location is a name, not a path, so it is the upstream's.
        assert not [name for name in answer.headers if name.lower().startswith("x-tokend-")]
        if path.startswith("/_tokend"):
            assert answer.status_code == 404, (path, answer.status_code)
    assert [seen.path for seen in echo.seen[before:]] == ["/@tokend_refused"]


def test_the_health_check_is_nginx_s_own_and_needs_no_token(
    gateway: Nginx, echo: EchoUpstream
) -> None:
    before = len(echo.seen)
    answer = through(gateway, "/healthz")
    assert (answer.status_code, answer.text) == (200, "ok\n")
    assert len(echo.seen) == before


def test_the_secret_is_in_no_log_nginx_writes(
    gateway: Nginx, make_user: Callable[..., Account]
) -> None:
    user = make_user("logged")
    assert through(gateway, "/orders", user.token).status_code == 200
    assert through(gateway, "/orders", user.token + "x").status_code == 401
    for log in gateway.prefix.glob("*.log"):
        assert user.token not in log.read_text(errors="replace"), log.name
    assert (gateway.prefix / "access.log").read_text().count("/orders") >= 2


def test_main_config_points_every_path_inside_the_prefix(tmp_path: Path) -> None:
    # The test's nginx must never write to /var/lib/nginx or /run (a root test run
    # would otherwise touch the machine's own nginx).
    text = main_config(tmp_path, tmp_path / "tokend.conf")
    paths = [word.rstrip(";") for word in text.split() if word.startswith("/")]
    assert paths
    assert all(path.startswith(str(tmp_path)) for path in paths), paths


def test_the_failure_limit_s_429_reaches_the_client_with_retry_after(
    database_url: str, echo: EchoUpstream, alice: Account, tmp_path: Path
) -> None:
    # A tokend of its own with a small limit, believing nginx's X-Forwarded-For.
    env = {"TOKEND_RATE_LIMIT_FAILURES": "4", "TOKEND_TRUSTED_PROXIES": "127.0.0.1"}
    with (
        Server(database_url=database_url, log_path=tmp_path / "tokend.log", env=env) as node,
        Nginx(tmp_path / "nginx", [node.url, node.url], echo.url) as nginx,
    ):
        before = len(echo.seen)
        statuses = [through(nginx, token=SecretFormat().generate()).status_code
                    for _ in range(4)]  # fmt: skip
        # Each refusal is checked twice (once for the decision, once for the body).
        assert statuses == [401, 401, 429, 429]
        limited = through(nginx, token=SecretFormat().generate())
        assert_error(limited, 429, "rate_limited")
        retry_after = int(limited.headers["retry-after"])
        assert 1 <= retry_after <= 60
        assert limited.headers.get_list("retry-after") == [str(retry_after)]
        assert limited.json()["error"]["limit"]["total"] == 4
        assert len(echo.seen) == before
        # A live token is never limited (SPEC §7), through nginx too.
        assert through(nginx, token=alice.token).status_code == 200
        assert len(echo.seen) == before + 1


@pytest.mark.parametrize(
    ("in_ci", "outcome"), [(True, pytest.fail.Exception), (False, pytest.skip.Exception)]
)
def test_a_missing_nginx_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, in_ci: bool, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(proxy, "NGINX", str(tmp_path / "no-nginx"))
    monkeypatch.setattr(proxy, "IN_CI", in_ci)
    with pytest.raises(outcome, match="nginx is not installed"):
        proxy.require_nginx()
