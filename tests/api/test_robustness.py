"""Garbage in, never a 5xx out: every answer is < 500 and every error has the §5 shape.

Runs against the live server on both databases. Where the right answer is clear
(400 for a bad value, exact round-trip for a good name) it is asserted too.
"""

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.api.assertions import assert_error, assert_sane, error_body
from tests.api.raw_http import raw_request
from tests.conftest import Account
from tests.support import Server
from tokend.domain.ids import new_token_id

JSON = {"Content-Type": "application/json"}


def post_raw(api: httpx.Client, content: bytes, headers: dict[str, str] = JSON) -> httpx.Response:
    response = api.post("/v3/user/tokens", content=content, headers=headers)
    assert_sane(response)
    return response


def post_json(api: httpx.Client, body: object, *, ascii_only: bool = False) -> httpx.Response:
    return post_raw(api, json.dumps(body, ensure_ascii=ascii_only).encode())


def token_names(api: httpx.Client) -> list[str]:
    return [token["name"] for token in api.get("/v6/user/tokens?limit=100").json()["tokens"]]


# --- bodies ------------------------------------------------------------------------

MALFORMED_JSON = [
    b"{", b"}", b"{]", b'{"name"}', b'{"name":}', b'{"name": "x",}', b"{'name': 'x'}",
    b'{"name": "x"}}', b'{"name": "x"} {"name": "y"}', b'{"name": "x"} trailing',
    b'{"name": "unterminated}', b'{"name": "\\x"}', b'{"name": "\\u12"}', b'{"name": NaN}',
    b'{"name": "x", "expiresAt": Infinity}', b'{"name": "x", "expiresAt": -Infinity}',
    b'{"name": "x", "expiresAt": 1e999}', b'{"name": "x", "expiresAt": 01}',
    b'{"name": "x", "expiresAt": 0x10}', b'{"name": "x" /* comment */}',
    b'{"name": "\xc3"}', b'{"name": "\xff\xfe"}', b"\xff\xfe\x00", b'{"name": "x"\x00}',
    b"\x00" * 100, b" " * 1000, b"\r\n\t", b'{"name": "x", "name": 5}',
    b'{"name": "x", "expiresAt": ' + b"9" * 5000 + b"}", b"[" * 100, b'{"": ""}',
    b'{"name": "x", "expiresAt": 1' + b"0" * 400 + b"}", b"\xef\xbb\xbf{}",
]  # fmt: skip


@pytest.mark.parametrize("content", MALFORMED_JSON, ids=[repr(c)[:40] for c in MALFORMED_JSON])
def test_malformed_json(server: Server, alice: Account, content: bytes) -> None:
    with server.client(alice.token) as api:
        assert post_raw(api, content).status_code in (200, 400)


def nested(depth: int, opening: str = "[", closing: str = "]", inner: str = "") -> str:
    return opening * depth + inner + closing * depth


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(nested(10_000), id="10k-arrays"),
        pytest.param(nested(32_000), id="32k-arrays"),
        pytest.param(nested(10_000, '{"a":', "}", inner="1"), id="10k-objects"),
        pytest.param('{"name": ' + nested(10_000) + "}", id="10k-arrays-as-name"),
        pytest.param('{"name": "x", "extra": ' + nested(10_000) + "}", id="10k-arrays-unknown"),
        pytest.param('{"name": ' + nested(500) + "}", id="500-arrays-as-name"),
    ],
)
def test_deeply_nested_json(server: Server, alice: Account, content: str) -> None:
    assert len(content) <= 64 * 1024
    with server.client(alice.token) as api:
        assert_error(post_raw(api, content.encode()), 400, "bad_request")


ODD_VALUES: list[object] = [
    None, True, False, 0, -1, 1.5, -0.0, 1e308, 10**30, -(10**30), 2**63, "", " ", "x" * 1000,
    "\x00", [], [1, [2]], {}, {"a": {"b": 1}}, [None], "4000000000000",
]  # fmt: skip


@pytest.mark.parametrize("field", ["name", "expiresAt", "projectId"])
def test_wrong_types_everywhere(server: Server, alice: Account, field: str) -> None:
    with server.client(alice.token) as api:
        for value in ODD_VALUES:
            response = post_json(api, {"name": "typed", field: value})
            assert response.status_code in (200, 400), (field, value, response.text)


@pytest.mark.parametrize(
    "number",
    [-(10**30), -1, 2**63 - 1, 2**63, 2**64, 10**30, 10**4000],
    ids=["-1e30", "-1", "2^63-1", "2^63", "2^64", "1e30", "1e4000"],
)
def test_negative_and_enormous_numbers(server: Server, alice: Account, number: int) -> None:
    with server.client(alice.token) as api:
        response = post_json(api, {"name": "n", "expiresAt": number})
        assert_error(response, 400, "bad_request")
        for param in ("limit", "until", "since"):
            assert_error(api.get(f"/v6/user/tokens?{param}={number}"), 400, "bad_request")


def test_unknown_fields_are_ignored(server: Server, alice: Account) -> None:
    body = {
        "name": "extra", "id": "chosen", "type": "other", "origin": "email",
        "teamId": "team_x", "scopes": [{"type": "team", "teamId": "team_x"}],
        "createdAt": 1, "bearerToken": "tkd_mine", "expiresat": 1, "unknown": {"deep": [1]},
    }  # fmt: skip
    with server.client(alice.token) as api:
        response = post_json(api, body)
        assert response.status_code == 200, response.text
    token = response.json()["token"]
    user_scope = {"type": "user", "origin": "manual", "createdAt": token["createdAt"]}
    assert token["id"] != "chosen"
    assert token["type"] == "oauth2-token"
    assert token["origin"] == "manual"
    assert token["createdAt"] > 1
    assert token["scopes"] == [user_scope]
    assert "expiresAt" not in token
    assert response.json()["bearerToken"] != "tkd_mine"


# --- unicode -------------------------------------------------------------------

VALID_NAMES = [
    pytest.param("🔑 deploy key", id="emoji"),
    pytest.param("מפתח ייצור", id="hebrew-rtl"),
    pytest.param("مفتاح الإنتاج", id="arabic-rtl"),
    pytest.param("deploy מפתח 42", id="mixed-direction"),
    pytest.param("cafe\u0301 e\u0301\u0302", id="combining-not-normalised"),
    pytest.param("café", id="precomposed"),
    pytest.param("Z\u0337\u0322a\u0338l\u0335g\u0336o\u0334", id="zalgo"),
    pytest.param("本番環境のトークン", id="cjk"),
    pytest.param("\U0001d4b3" * 100, id="100-astral-chars"),
    pytest.param("🇩🇪🇯🇵", id="flags"),
    pytest.param("1\ufe0f\u20e3 👍🏽", id="keycap-skin-tone"),
    pytest.param("  padded  ", id="outer-spaces"),
    pytest.param('quote " backslash \\ slash /', id="json-specials"),
    pytest.param("<script>alert(1)</script>", id="html"),
    pytest.param("👨\u200d👩\u200d👧 family", id="zwj-emoji-sequence"),
    pytest.param("本番\u3000トークン", id="ideographic-space"),
]


@pytest.mark.parametrize("name", VALID_NAMES)
def test_unicode_names_round_trip_exactly(server: Server, alice: Account, name: str) -> None:
    with server.client(alice.token) as api:
        for ascii_only in (False, True):  # raw UTF-8, then \\u escapes (surrogate pairs)
            response = post_json(api, {"name": name}, ascii_only=ascii_only)
            assert response.status_code == 200, response.text
            token = response.json()["token"]
            assert token["name"] == name
            assert api.get(f"/v5/user/tokens/{token['id']}").json()["token"]["name"] == name
        assert token_names(api).count(name) == 2


CONTROL_CHARACTERS = [
    "\x00",
    "a\x00b",
    "\x01",
    "\x1b[31mred",
    "\x7f",
    "line\nbreak",
    "\r\n",
    "\x85",
]


@pytest.mark.parametrize("value", CONTROL_CHARACTERS, ids=[repr(v) for v in CONTROL_CHARACTERS])
@pytest.mark.parametrize("field", ["name", "projectId"])
def test_control_characters_in_fields(
    server: Server, alice: Account, field: str, value: str
) -> None:
    with server.client(alice.token) as api:
        assert_error(post_json(api, {"name": "ok", field: value}), 400, "bad_request")


@pytest.mark.parametrize(
    "escaped",
    [r"\ud800", r"\udfff", r"a\ud800b", r"\udc00\ud800", r"\ud800\u0041"],
)
@pytest.mark.parametrize("field", ["name", "projectId"])
def test_lone_surrogates(server: Server, alice: Account, field: str, escaped: str) -> None:
    content = ('{"name": "ok", "%s": "%s"}' % (field, escaped)).encode()  # noqa: UP031
    with server.client(alice.token) as api:
        assert_error(post_raw(api, content), 400, "bad_request")
        unknown = post_raw(api, ('{"name": "ok", "extra": "%s"}' % escaped).encode())  # noqa: UP031
        assert unknown.status_code in (200, 400)


def test_escaped_surrogate_pair_is_one_character(server: Server, alice: Account) -> None:
    with server.client(alice.token) as api:
        pair = post_raw(api, rb'{"name": "\ud83d\udd11"}')
        assert pair.json()["token"]["name"] == "🔑"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v6/user/tokens?limit=%00"), ("GET", "/v6/user/tokens?until=%00"),
     ("GET", "/v6/user/tokens?since=1%00"), ("GET", "/v6/user/tokens?limit=%ED%A0%80"),
     ("POST", "/v3/user/tokens?teamId=%00"), ("POST", "/v3/user/tokens?slug=a%00"),
     ("POST", "/v3/user/tokens?teamId=%ED%A0%80"), ("GET", "/v5/user/tokens/%00"),
     ("GET", "/v5/user/tokens/a%00b"), ("DELETE", "/v3/user/tokens/%00"),
     ("GET", "/v5/user/tokens/%ED%A0%80"), ("GET", "/v5/user/tokens/%C0%80"),
     ("GET", "/%00"), ("GET", "/v2/user%00"), ("GET", "/v5/user/tokens/current%00"),
     ("GET", "/v6/user/tokens?%00=%00"), ("GET", "/v6/user/tokens?%ZZ=%ZZ")],
)  # fmt: skip
def test_nul_and_invalid_utf8_in_query_and_path(
    server: Server, alice: Account, method: str, path: str
) -> None:
    with server.client(alice.token) as api:
        assert_sane(api.request(method, path, json={"name": "x"} if method == "POST" else None))
        assert api.get("/v2/user").status_code == 200  # nothing above revoked the token


# --- headers -------------------------------------------------------------------


def odd_authorizations(secret: str) -> list[bytes]:
    token = secret.encode()
    return [
        b"Bearer " + b"x" * 7 * 1024,
        b"Bearer tkd_" + b"A" * 7 * 1024,
        b"Bearer " + b"A" * 60 * 1024,
        b"Bearer \xff\xfe\xfd",
        b"Bearer tkd_" + "é".encode() * 18,
        b"Bearer tkd_" + bytes(range(0x80, 0x80 + 36)),
        b"Bearer\t" + token,
        b"Bearer \t" + token,
        b"Bearer  " + token,
        b"Bearer " + token + b" trailing",
        b"Bearer " + token + b"," + token,
        b"Bearer Bearer " + token,
        b"Bearer " + secret.upper().encode(),
    ]


def test_odd_authorization_headers(server: Server, alice: Account) -> None:
    with server.client() as api:
        for value in odd_authorizations(alice.token):
            response = api.get("/v2/user", headers={b"Authorization": value})
            assert_sane(response)
            # Past the head limit (8 KiB) the protocol refuses it before any token check.
            expected = (431,) if len(value) > 8 * 1024 else (200, 401)
            assert response.status_code in expected, (value[:60], response.text)
            assert alice.token not in response.text


def test_authorization_headers_httpx_cannot_send(server: Server, alice: Account) -> None:
    token = alice.token.encode()
    for value in (b"Bearer " + token + b" ", b"Bearer ", b"Bearer \t ", b"Bearer\t", b"Bearer\t\t"):
        response = raw_request(server.url, b"GET", b"/v2/user", [(b"Authorization", value)])
        assert_sane(response)
        assert response.status_code in (200, 401)


@pytest.mark.parametrize(
    "order",
    [("good", "bad"), ("bad", "good"), ("good", "good"), ("basic", "good"), ("good", "empty")],
    ids=str,
)
def test_repeated_authorization_headers(
    server: Server, alice: Account, order: tuple[str, str]
) -> None:
    values = {
        "good": f"Bearer {alice.token}",
        "bad": "Bearer tkd_nope",
        "basic": "Basic dXNlcjpwYXNz",
        "empty": "Bearer",
    }
    headers = [("Authorization", values[which]) for which in order]
    with server.client() as api:
        response = api.get("/v2/user", headers=headers)
    assert_sane(response)
    assert response.status_code in (200, 401)


def test_scheme_is_case_insensitive(server: Server, alice: Account) -> None:
    with server.client() as api:
        for scheme in ("bearer", "BEARER", "bEaReR"):
            response = api.get("/v2/user", headers={"Authorization": f"{scheme} {alice.token}"})
            assert response.status_code == 200, (scheme, response.text)


def test_huge_and_odd_other_headers(server: Server, alice: Account) -> None:
    many = [(f"X-Header-{i}", "v" * 50) for i in range(200)]
    with server.client(alice.token) as api:
        for name, value in (
            (b"X-Big", b"a" * 7 * 1024),
            (b"X-Junk", b"\x80\xff\xfe"),
            (b"User-Agent", "агент/1.0".encode()),
            (b"Accept", b"text/html"),
            (b"Accept", b"\xff/\xff"),
            (b"Accept-Encoding", b"gzip;q=abc, *;q=-1"),
            (b"Host", b"evil.example"),
            (b"X-Forwarded-For", b"not-an-ip, 999.999.999.999"),
            (b"Content-Type", b"application/json; charset=ebcdic"),
        ):
            response = api.get("/v2/user", headers={name: value})
            assert_sane(response)
            assert response.status_code == 200, (name, value, response.text)
        assert_sane(api.get("/v2/user", headers=many))


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", b'{"name": "x"}'),
        ("application/x-www-form-urlencoded", b"name=x"),
        ("multipart/form-data; boundary=b", b'--b\r\nContent-Disposition: form-data; name="name"'
         b"\r\n\r\nx\r\n--b--\r\n"),
        ("multipart/form-data", b"garbage"),
        ("application/json; charset=utf-16", '{"name": "x"}'.encode("utf-16")),
        ("application/json; charset=nonsense", b'{"name": "x"}'),
        ("application/vnd.api+json", b'{"name": "x"}'),
        ("application/json" + ";" * 1000, b'{"name": "x"}'),
        ("", b'{"name": "x"}'),
    ],
    ids=["text", "form", "multipart", "multipart-no-boundary", "utf16", "bad-charset",
         "vnd-json", "semicolons", "empty"],
)  # fmt: skip
def test_odd_content_types(
    server: Server, alice: Account, content_type: str, content: bytes
) -> None:
    with server.client(alice.token) as api:
        response = post_raw(api, content, headers={"Content-Type": content_type})
        assert response.status_code in (200, 400)


# --- paths and methods ---------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/v6/user/tokens?foo=bar&limit=5&zzz=", "/v2/user?x=1&x=2", "/v5/user/tokens?" + "q" * 8000,
     "/v6/user/tokens?limit=1&limit=2&until=&since="],
)  # fmt: skip
def test_unknown_and_repeated_query_params(server: Server, alice: Account, path: str) -> None:
    with server.client(alice.token) as api:
        response = api.get(path)
        assert_sane(response)
        assert response.status_code in (200, 400)


ODD_PATHS = {
    "8k-segment": "/v5/user/tokens/" + "a" * 8 * 1024,
    "60k-segment": "/v5/user/tokens/" + "a" * 60 * 1024,
    "60k-first-segment": "/" + "a" * 60 * 1024,
    "10k-escapes": "/v3/user/tokens/" + "%41" * 10_000,
    "encoded-traversal": "/v5/user/tokens/..%2F..%2Fv2%2Fuser",
    "1000-slashes": "/v5/user/tokens/" + "/" * 1000,
    "dot-segment": "/./v2/user",
    "double-slash": "//v2/user",
    "upper-case": "/V2/USER",
    "trailing-slash": "/v2/user/",
    "matrix-param": "/v2/user;x=1",
    "fragment": "/v2/user#frag",
    "500-emoji": "/v5/user/tokens/" + quote("🔑" * 500),
}


@pytest.mark.parametrize("path", ODD_PATHS.values(), ids=ODD_PATHS.keys())
def test_long_and_odd_paths(server: Server, alice: Account, path: str) -> None:
    with server.client(alice.token) as api:
        for method in ("GET", "DELETE"):
            assert_sane(api.request(method, path))


METHODS = ["GET", "POST", "PUT", "PATCH", "HEAD", "OPTIONS", "TRACE", "DELETE"]
PATHS = {
    "user": "/v2/user", "create": "/v3/user/tokens", "list-v6": "/v6/user/tokens",
    "list-v5": "/v5/user/tokens", "get-current": "/v5/user/tokens/current",
    "get-id": f"/v5/user/tokens/{new_token_id()}", "delete-id": f"/v3/user/tokens/{new_token_id()}",
    "delete-current": "/v3/user/tokens/current", "healthz": "/healthz", "readyz": "/readyz",
    "openapi": "/openapi.json", "docs": "/docs", "root": "/", "unknown": "/nope",
}  # fmt: skip


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_every_method_on_every_path(
    server: Server, make_user: Callable[..., Account], path: str
) -> None:
    account = make_user("methods")
    for token in (None, "tkd_nope", account.token):
        with server.client(token) as api:
            for method in METHODS:  # DELETE last: it may revoke the token
                body: Any = {"name": "x"} if method in ("POST", "PUT", "PATCH") else None
                assert_sane(api.request(method, path, json=body))


# --- requests that are not valid HTTP (answered by uvicorn, before the app) ----

INVALID_HTTP = [
    pytest.param(b"FOO", b"/v2/user", [], id="unknown-method"),
    pytest.param(b"GET", b"/v5/user/tokens/\xff", [], id="raw-byte-in-target"),
    pytest.param(b"GET", b"/v2/user", [(b"Authorization", b"Bearer x\x00y")], id="nul-in-header"),
    pytest.param(b"GET", b"/v2/user", [(b"X-Ctl", b"a\x7fb")], id="del-in-header"),
    pytest.param(b"POST", b"/v3/user/tokens", [(b"Content-Length", b"abc")], id="cl-not-a-number"),
    pytest.param(b"POST", b"/v3/user/tokens", [(b"Content-Length", b"-1")], id="cl-negative"),
]


@pytest.mark.parametrize(("method", "target", "headers"), INVALID_HTTP)
def test_invalid_http_is_refused_not_crashed(
    server: Server, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    response = raw_request(server.url, method, target, headers)
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize(("method", "target", "headers"), INVALID_HTTP)
def test_invalid_http_is_refused_in_the_error_shape(
    server: Server, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    # §5 "Every error is JSON" holds for these too, though uvicorn answers them.
    response = raw_request(server.url, method, target, headers)
    error_body(response.status_code, response.text, response.headers.get("content-type", ""))


# --- property-based -------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
create_bodies = json_values | st.fixed_dictionaries(
    {},
    optional={
        "name": json_values | st.text(max_size=120),
        "expiresAt": json_values | st.integers(),
        "projectId": json_values | st.text(max_size=300),
    },
)
BOUNDED = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # one account per test
)


@BOUNDED
@given(body=create_bodies)
def test_any_json_as_create_body(server: Server, alice: Account, body: object) -> None:
    with server.client(alice.token) as api:
        assert post_json(api, body).status_code in (200, 400)


@BOUNDED
@given(token_id=st.text())
def test_any_text_as_token_id(server: Server, alice: Account, token_id: str) -> None:
    assume(token_id != "current")  # deleting it would end the test's own token
    segment = quote(token_id, safe="")
    with server.client(alice.token) as api:
        assert_sane(api.get(f"/v5/user/tokens/{segment}"))
        assert_sane(api.delete(f"/v3/user/tokens/{segment}"))


@BOUNDED
@given(
    query=st.dictionaries(
        st.sampled_from(["limit", "until", "since", "teamId", "slug"]) | st.text(max_size=5),
        st.text(max_size=40),
        max_size=4,
    )
)
def test_any_text_as_query_values(server: Server, alice: Account, query: dict[str, str]) -> None:
    with server.client(alice.token) as api:
        assert_sane(api.get("/v6/user/tokens", params=query))
        assert_sane(api.post("/v3/user/tokens", params=query, json={"name": "q"}))
