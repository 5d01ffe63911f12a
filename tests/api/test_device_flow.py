"""Device authorization (RFC 8628) over real HTTP, on both databases.

The person's side (the /device page) is the web adapter's: here the approval is made
through the service layer, as that page makes it, by a person signed in with a
password.
"""

import threading
import uuid
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from tests.conftest import Account
from tests.support import Server
from tokend.bootstrap import Services
from tokend.domain.device import USER_CODE_ALPHABET
from tokend.domain.principal import Person
from tokend.service.clock import system_clock
from tokend.storage.schema import device_authorizations

GRANT = "urn:ietf:params:oauth:grant-type:device_code"
PASSWORD = "a long enough passphrase"
CLIENT = "device-flow-test"
OAUTH_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_scope",
    "unauthorized_client",
    "invalid_grant",
    "unsupported_grant_type",
    "authorization_pending",
    "slow_down",
    "access_denied",
    "expired_token",
}


@pytest.fixture
def person(services: Services, alice: Account) -> Person:
    services.accounts.set_password(alice.username, PASSWORD)
    return services.sessions.sign_in(alice.username, PASSWORD).person


def start(api: httpx.Client, **fields: str) -> dict[str, Any]:
    response = api.post("/v1/oauth/device/code", data={"client_id": CLIENT, **fields})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body: dict[str, Any] = response.json()
    return body


def poll(api: httpx.Client, device_code: str, client_id: str = CLIENT) -> httpx.Response:
    return api.post(
        "/v1/oauth/token",
        data={"grant_type": GRANT, "device_code": device_code, "client_id": client_id},
    )


def oauth_error(response: httpx.Response) -> str:
    """The OAuth error code of a 400, after checking the RFC 6749 §5.2 shape."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] in OAUTH_ERRORS
    assert body["error_description"].strip()
    return str(body["error"])


def approve(services: Services, person: Person, user_code: str, *, approve: bool = True) -> None:
    services.devices.decide(person, user_code, approve=approve)


def test_the_whole_flow(server: Server, services: Services, person: Person) -> None:
    with server.client() as api:
        grant = start(api, name="Laptop of Alice")
        assert set(grant) == {
            "device_code", "user_code", "verification_uri", "verification_uri_complete",
            "expires_in", "interval",
        }  # fmt: skip
        user_code = grant["user_code"]
        assert len(user_code) == 9
        assert user_code[4] == "-"
        assert set(user_code.replace("-", "")) <= set(USER_CODE_ALPHABET)
        assert grant["verification_uri"] == f"{server.url}/device"
        assert grant["verification_uri_complete"] == f"{server.url}/device?user_code={user_code}"
        assert (grant["expires_in"], grant["interval"]) == (600, 5)

        assert oauth_error(poll(api, grant["device_code"])) == "authorization_pending"
        approve(services, person, user_code)
        issued = poll(api, grant["device_code"])
        assert issued.status_code == 200, issued.text
        assert issued.headers["cache-control"] == "no-store"
        assert issued.headers["pragma"] == "no-cache"
        body = issued.json()
        assert set(body) == {"access_token", "token_type"}  # no expiry: no expires_in
        assert body["token_type"] == "Bearer"
        # Later polls: the token was handed out once.
        assert oauth_error(poll(api, grant["device_code"])) == "invalid_grant"

    with server.client(body["access_token"]) as api:
        user = api.get("/v2/user")
        assert user.status_code == 200
        assert user.json()["user"]["username"] == person.user.username
        tokens = api.get("/v6/user/tokens").json()["tokens"]
        current = api.get("/v5/user/tokens/current").json()["token"]
    assert [token["id"] for token in tokens if token["name"] == "Laptop of Alice"] == [
        current["id"]
    ]
    assert current["origin"] == "email"
    assert grant["device_code"] not in server.log_path.read_text()
    assert body["access_token"] not in server.log_path.read_text()


def test_the_default_name_and_any_unicode_name(
    server: Server, services: Services, person: Person
) -> None:
    names = {"Device login": None, "Ноутбук · café ☕ 🚀 北京": "Ноутбук · café ☕ 🚀 北京"}
    with server.client() as api:
        for expected, sent in names.items():
            grant = start(api, **({"name": sent} if sent else {}), scope="anything at all")
            approve(services, person, grant["user_code"])
            secret = poll(api, grant["device_code"]).json()["access_token"]
            with server.client(secret) as mine:
                assert mine.get("/v5/user/tokens/current").json()["token"]["name"] == expected


def test_slow_down_adds_to_the_interval(server: Server) -> None:
    with server.client() as api:
        grant = start(api)
        assert oauth_error(poll(api, grant["device_code"])) == "authorization_pending"
        slowed = poll(api, grant["device_code"])
        assert oauth_error(slowed) == "slow_down"
        assert "10 seconds" in slowed.json()["error_description"]
        assert "15 seconds" in poll(api, grant["device_code"]).json()["error_description"]


def test_denied(server: Server, services: Services, person: Person) -> None:
    with server.client() as api:
        grant = start(api)
        approve(services, person, grant["user_code"], approve=False)
        for _ in range(2):
            assert oauth_error(poll(api, grant["device_code"])) == "access_denied"


def expire(services: Services, device_code: str) -> None:
    digest = services.devices.digester.digest(device_code)
    with services.engine.begin() as conn:
        conn.execute(
            update(device_authorizations)
            .where(device_authorizations.c.device_code_digest == digest)
            .values(expires_at=system_clock() - 1)
        )


def test_expired(server: Server, services: Services, person: Person) -> None:
    with server.client() as api:
        grant = start(api)
        expire(services, grant["device_code"])
        assert oauth_error(poll(api, grant["device_code"])) == "expired_token"
        with pytest.raises(Exception, match="not valid"):
            approve(services, person, grant["user_code"])
        approved = start(api)
        approve(services, person, approved["user_code"])
        expire(services, approved["device_code"])  # approved, then not fetched in time
        assert oauth_error(poll(api, approved["device_code"])) == "expired_token"


def test_another_client_id_cannot_take_the_token(
    server: Server, services: Services, person: Person
) -> None:
    with server.client() as api:
        grant = start(api)
        approve(services, person, grant["user_code"])
        assert oauth_error(poll(api, grant["device_code"], client_id="someone-else")) == (
            "invalid_grant"
        )
        assert poll(api, grant["device_code"]).status_code == 200


@pytest.mark.parametrize("code", ["", "x", "0" * 40, "tkd_" + "a" * 36, "é" * 40, "a" * 5000])
def test_unknown_device_codes(server: Server, code: str) -> None:
    with server.client() as api:
        expected = "invalid_request" if code == "" else "invalid_grant"
        assert oauth_error(poll(api, code)) == expected


@pytest.mark.parametrize(
    "grant_type", ["authorization_code", "password", "client_credentials", "refresh_token",
                   "urn:ietf:params:oauth:grant-type:jwt-bearer", "device_code", GRANT.upper()],
)  # fmt: skip
def test_other_grant_types_are_unsupported(server: Server, grant_type: str) -> None:
    with server.client() as api:
        fields = {"grant_type": grant_type, "device_code": "x", "client_id": CLIENT}
        response = api.post("/v1/oauth/token", data=fields)
        assert oauth_error(response) == "unsupported_grant_type"
        assert GRANT in response.json()["error_description"]


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MISSING = [
    ("/v1/oauth/device/code", {}, "client_id"),
    ("/v1/oauth/device/code", {"client_id": ""}, "client_id"),
    ("/v1/oauth/device/code", {"scope": "x", "name": "y"}, "client_id"),
    ("/v1/oauth/token", {}, "grant_type"),
    ("/v1/oauth/token", {"grant_type": GRANT, "client_id": CLIENT}, "device_code"),
    ("/v1/oauth/token", {"grant_type": GRANT, "device_code": "x"}, "client_id"),
    ("/v1/oauth/token", {"grant_type": GRANT, "device_code": "x", "client_id": ""}, "client_id"),
]


@pytest.mark.parametrize(("path", "fields", "missing"), MISSING)
def test_missing_fields(server: Server, path: str, fields: dict[str, str], missing: str) -> None:
    with server.client() as api:
        response = api.post(path, data=fields, headers=FORM)
        assert oauth_error(response) == "invalid_request"
        assert missing in response.json()["error_description"]


@pytest.mark.parametrize("path", ["/v1/oauth/device/code", "/v1/oauth/token"])
def test_anything_but_a_form_is_told_to_be_a_form(server: Server, path: str) -> None:
    fields = {"client_id": CLIENT, "grant_type": GRANT, "device_code": "x"}
    with server.client() as api:
        as_json = api.post(path, json=fields)
        assert oauth_error(as_json) == "invalid_request"
        assert "not JSON" in as_json.json()["error_description"]
        assert "application/x-www-form-urlencoded" in as_json.json()["error_description"]
        others = [
            api.post(path, content=b"client_id=x"),  # no Content-Type
            api.post(path, content=b"client_id=x", headers={"Content-Type": "text/plain"}),
            api.post(path, files={"client_id": (None, CLIENT)}),  # multipart
            api.post(path),  # no body at all
        ]
        for response in others:
            assert oauth_error(response) == "invalid_request"


HOSTILE_BODIES = {
    "not-utf8": b"client_id=\xff\xfe",
    "bad-percent-utf8": b"client_id=%ff%fe",
    "nul": b"client_id=a%00b",
    "control": b"client_id=a%1bb",
    "blank": b"client_id=+++",
    "repeated": b"client_id=a&client_id=b",
    "too-long": b"client_id=" + b"a" * 101,
    "name-too-long": b"client_id=a&name=" + b"n" * 101,
    "name-blank": b"client_id=a&name=%20",
    "name-nul": b"client_id=a&name=x%00",
    "scope-too-long": b"client_id=a&scope=" + b"s" * 201,
    "many-fields": b"&".join(b"f%d=1" % i for i in range(200)) + b"&client_id=a",
    "sixty-kib": b"client_id=" + b"a" * 60_000,
    "only-separators": b"&&&===&&",
    "lone-surrogate-escape": b"client_id=%ed%a0%80",
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_hostile_device_code_requests(server: Server, body: bytes) -> None:
    with server.client() as api:
        response = api.post("/v1/oauth/device/code", content=body, headers=FORM)
        assert oauth_error(response) == "invalid_request"
        assert "\x00" not in response.text


def test_a_body_over_64_kib_is_refused(server: Server) -> None:
    with server.client() as api:
        for path in ("/v1/oauth/device/code", "/v1/oauth/token"):
            response = api.post(path, content=b"client_id=" + b"a" * 65_536, headers=FORM)
            assert response.status_code == 413
            assert response.json()["error"]["code"] == "payload_too_large"
        # Streamed without a length: counted as it arrives.
        chunks = iter([b"client_id=", b"a" * 40_000, b"a" * 40_000])
        chunked = api.post("/v1/oauth/token", content=chunks, headers=FORM)
        assert chunked.status_code == 413


def test_extra_fields_are_ignored(server: Server) -> None:
    with server.client() as api:
        grant = start(api, client_secret="ignored", redirect_uri="https://example.com")
        fields = {"grant_type": GRANT, "device_code": grant["device_code"], "client_id": CLIENT,
                  "scope": "x", "code_verifier": "y"}  # fmt: skip
        assert oauth_error(api.post("/v1/oauth/token", data=fields)) == "authorization_pending"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(["/v1/oauth/device/code", "/v1/oauth/token"]),
    fields=st.dictionaries(
        st.sampled_from(["client_id", "scope", "name", "grant_type", "device_code", "x"]),
        st.text(max_size=120) | st.sampled_from([GRANT, CLIENT]),
    ),
)
def test_any_form_is_answered_without_a_server_error(
    server: Server, path: str, fields: dict[str, str]
) -> None:
    with server.client() as api:
        response = api.post(path, content=str(httpx.QueryParams(fields)).encode(), headers=FORM)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        oauth_error(response)


def test_concurrent_polls_hand_the_token_out_once(
    server: Server, services: Services, person: Person
) -> None:
    name = f"race-{uuid.uuid4().hex[:8]}"
    with server.client() as api:
        grant = start(api, name=name)
    approve(services, person, grant["user_code"])
    barrier = threading.Barrier(8)
    answers: list[httpx.Response] = []

    def racer() -> None:
        with server.client() as api:
            barrier.wait()
            answers.append(poll(api, grant["device_code"]))

    threads = [threading.Thread(target=racer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(response.status_code for response in answers) == [200] + [400] * 7
    assert {oauth_error(r) for r in answers if r.status_code == 400} == {"invalid_grant"}
    secret = next(r for r in answers if r.status_code == 200).json()["access_token"]
    with server.client(secret) as api:
        names = [token["name"] for token in api.get("/v6/user/tokens").json()["tokens"]]
    assert names.count(name) == 1


def test_approvals_and_denials_are_in_the_audit_log(
    server: Server, services: Services, person: Person, alice: Account
) -> None:
    with server.client() as api:
        denied = start(api)
        approve(services, person, denied["user_code"], approve=False)
        approved = start(api, name="audited device")
        approve(services, person, approved["user_code"])
        secret = poll(api, approved["device_code"]).json()["access_token"]
    with server.client(alice.token) as api:
        events = api.get("/v1/user/events", params={"limit": 10}).json()["events"]
    types = [event["type"] for event in events]
    # Newest first: the token handed out, its approval, the denial, the sign-in, the
    # password set by the operator.
    assert types[:5] == [
        "token.created", "device.approved", "device.denied", "auth.signed_in",
        "account.password_changed",
    ]  # fmt: skip
    assert events[0]["token"]["name"] == "audited device"
    assert events[0]["ip"] == "127.0.0.1"  # the device that fetched it
    assert secret not in str(events)


def test_the_endpoints_are_documented_without_a_bearer(server: Server) -> None:
    with server.client() as api:
        doc = api.get("/openapi.json").json()
    for path in ("/v1/oauth/device/code", "/v1/oauth/token"):
        operation = doc["paths"][path]["post"]
        assert "security" not in operation
        assert "application/x-www-form-urlencoded" in operation["requestBody"]["content"]
        assert operation["responses"]["400"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/OAuthError"
        }
        assert "422" not in operation["responses"]
    error = doc["components"]["schemas"]["OAuthError"]
    assert set(error["properties"]["error"]["enum"]) == OAUTH_ERRORS
    form = doc["paths"]["/v1/oauth/token"]["post"]["requestBody"]["content"]
    schema = form["application/x-www-form-urlencoded"]["schema"]
    assert schema["properties"]["grant_type"]["const"] == GRANT


def test_user_code_case_and_hyphen_do_not_matter(
    server: Server, services: Services, person: Person
) -> None:
    with server.client() as api:
        for typed in (str.lower, lambda code: code.replace("-", ""), lambda code: f" {code} "):
            grant = start(api)
            approve(services, person, typed(grant["user_code"]))
            assert poll(api, grant["device_code"]).status_code == 200


def test_an_address_may_hold_only_so_many_waiting_codes(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Codes asked for in a loop: past TOKEND_DEVICE_CODES_PER_ADDRESS, 429 with OAuth's
    slow_down and when to retry; nothing more is stored."""
    log = tmp_path_factory.mktemp("device-cap") / "tokend.log"
    # Other tests leave codes from 127.0.0.1 waiting in this database: this one comes
    # through a trusted proxy, from an address of its own.
    env = {"TOKEND_DEVICE_CODES_PER_ADDRESS": "3", "TOKEND_TRUSTED_PROXIES": "127.0.0.1"}
    own = {"X-Forwarded-For": f"198.51.100.{uuid.uuid4().int % 250 + 1}"}
    with Server(database_url=database_url, log_path=log, env=env) as capped, capped.client() as api:
        api.headers.update(own)
        for _ in range(3):
            start(api)
        refused = api.post("/v1/oauth/device/code", data={"client_id": CLIENT})
        assert refused.status_code == 429
        assert refused.json()["error"] == "slow_down"
        assert "Too many device logins" in refused.json()["error_description"]
        assert 0 < int(refused.headers["retry-after"]) <= 600
        assert refused.headers["cache-control"] == "no-store"
