"""Outside-client end-to-end test: the real `@vercel/sdk` drives a live tokend.

`tests/e2e/node/sdk_client.mjs` uses the SDK (pinned to exactly 1.28.35 in
package.json and package-lock.json) to create, list, get, and delete tokens and to
read the user, then prints a JSON summary. This test runs it against the `server`
fixture on both databases, then checks the summary against what the server really
holds, over plain HTTP.

Node.js and npm are needed: without them the test is skipped, or fails under CI=true.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Account
from tests.e2e.sdk import SDK_VERSION, SECRET, run_node
from tests.support import Server
from tokend.bootstrap import Services


def run_sdk_client(
    script: Path, server: Server, token: str, restricted: list[str] | None = None
) -> dict[str, Any]:
    # The token travels in the environment, never on the command line.
    env = {"TOKEND_URL": server.url, "TOKEND_TOKEN": token}
    if restricted:
        env["TOKEND_RESTRICTED_IDS"] = ",".join(restricted)
    done = run_node(script, env)
    stdout, stderr = done.stdout, done.stderr
    # Never let a secret reach a report, whatever happened.
    assert token not in stdout, "the SDK client printed the secret"
    assert token not in stderr, "the SDK client printed the secret"
    assert not SECRET.search(stdout), "the SDK client printed a bearer token"
    assert done.returncode == 0, f"node {script.name} failed:\n{SECRET.sub('[secret]', stderr)}"
    summary: dict[str, Any] = json.loads(stdout)
    return summary


@pytest.mark.node
def test_vercel_sdk_against_live_server(node_client: Path, server: Server, alice: Account) -> None:
    seen = run_sdk_client(node_client, server, alice.token)

    assert seen["sdkVersion"] == SDK_VERSION
    statuses = seen["statuses"]
    assert statuses == {
        "getAuthUser": 200,
        "getCurrent": 200,
        "create": [200, 200, 200],
        "list": 200,
        "getById": [200, 200, 200],
        "sessionGetCurrent": 200,
        "sessionGetAuthUser": 200,
        "deleteById": 200,
        "deleteCurrent": 200,
        "listAfter": 200,
    }
    # Every call went where the Vercel API puts it.
    assert {(x["method"], re.sub(r"/tokens/[^/]+$", "/tokens/{id}", x["path"]))
            for x in seen["exchanges"]} == {
        ("GET", "/v2/user"),
        ("GET", "/v5/user/tokens/{id}"),
        ("POST", "/v3/user/tokens"),
        ("GET", "/v6/user/tokens"),
        ("DELETE", "/v3/user/tokens/{id}"),
    }  # fmt: skip

    # The user, through the SDK, for the caller and for a token it created.
    assert seen["user"]["id"] == alice.user_id
    assert seen["user"]["username"] == alice.username
    assert seen["user"]["email"] == f"{alice.username}@localhost"
    assert seen["sessionUserId"] == alice.user_id

    # getAuthToken("current") is the calling token.
    assert seen["callerCurrent"]["id"] == alice.token_id

    created = {key: entry["token"] for key, entry in seen["created"].items()}
    assert [created[key]["name"] for key in ("session", "doomed", "kept")] == [
        "sdk-e2e-session",
        "sdk-e2e-doomed",
        "sdk-e2e-kept",
    ]
    ids = {key: token["id"] for key, token in created.items()}
    assert len(set(ids.values()) | {alice.token_id}) == 4
    for key, entry in seen["created"].items():
        token = entry["token"]
        assert entry["bearerTokenReturned"], key
        assert entry["bearerTokenMatchesPrefix"], key
        assert entry["bearerTokenMatchesSuffix"], key
        assert token["type"] == "oauth2-token"
        assert token["origin"] == "manual"
        assert token["expiresAt"] > token["createdAt"]
        assert token["activeAt"] == token["createdAt"]
        assert token["scopes"] == [
            {
                "type": "user",
                "origin": "manual",
                "createdAt": token["createdAt"],
                "expiresAt": token["expiresAt"],
            }
        ]

    # The list held the three new tokens, newest first, then the caller's.
    listing = seen["list"]
    assert listing["ids"] == [ids["kept"], ids["doomed"], ids["session"], alice.token_id]
    assert listing["pagination"] == {"count": 4, "next": None, "prev": None}
    assert [t for t in listing["tokens"] if t["id"] != alice.token_id] == [
        created["kept"],
        created["doomed"],
        created["session"],
    ]

    # Get by id equals what create returned; "current" with the new token is that token.
    assert seen["getById"] == created
    assert seen["sessionCurrent"] == seen["getById"]["session"]

    # Deletes answered with the right ids; revoked tokens are gone or refused.
    assert seen["deleteById"] == {"tokenId": ids["doomed"]}
    for gone in (seen["doomedAfterDelete"], seen["doomedDeleteAgain"]):
        assert (gone["status"], gone["code"]) == (404, "not_found")
    assert seen["deleteCurrent"] == {"tokenId": ids["session"]}
    for refused in (seen["revokedGetCurrent"], seen["revokedGetUser"]):
        assert (refused["status"], refused["code"]) == (401, "invalid_token")
        assert refused["message"] == "The token has been revoked."
        assert refused["wwwAuthenticate"] == 'Bearer realm="tokend", error="invalid_token"'
    assert seen["listAfter"]["ids"] == [ids["kept"], alice.token_id]
    assert seen["listAfter"]["pagination"] == {"count": 2, "next": None, "prev": None}

    # What the server really holds, over plain HTTP.
    with server.client(alice.token) as api:
        listed = api.get("/v6/user/tokens", params={"limit": 100}).json()
        assert [t["id"] for t in listed["tokens"]] == [ids["kept"], alice.token_id]
        # The SDK's parsed view of the surviving token is exactly the server's JSON.
        assert api.get(f"/v5/user/tokens/{ids['kept']}").json() == {"token": created["kept"]}
        current = api.get("/v5/user/tokens/current").json()["token"]
        assert {k: v for k, v in current.items() if k != "activeAt"} == {
            k: v for k, v in seen["callerCurrent"].items() if k != "activeAt"
        }
        user = api.get("/v2/user").json()["user"]
        assert {k: user[k] for k in ("id", "email", "name", "username")} == {
            k: seen["user"][k] for k in ("id", "email", "name", "username")
        }
        for revoked in ("session", "doomed"):
            assert api.get(f"/v5/user/tokens/{ids[revoked]}").status_code == 404
            assert api.delete(f"/v3/user/tokens/{ids[revoked]}").status_code == 404


@pytest.mark.node
def test_vercel_sdk_reads_restricted_tokens(
    node_client: Path, server: Server, services: Services, alice: Account
) -> None:
    """Restricted tokens (tokend's `permissions`, which the SDK does not know) are
    listed and read through the SDK like any other; it drops only that field."""
    caller = services.authenticator.authenticate(alice.token)
    restricted = [
        services.tokens.create(caller, name=f"ci-{n}", permissions=permissions).token.id
        for n, permissions in enumerate((["tokens:read"], [], ["user:read", "events:read"]))
    ]
    seen = run_sdk_client(node_client, server, alice.token, restricted)
    assert set(seen["statuses"]["create"]) == {200}
    assert set(restricted) <= set(seen["list"]["ids"])
    assert set(restricted) <= set(seen["listAfter"]["ids"])
    assert {token_id: entry["permissions"] for token_id, entry in seen["restricted"].items()} == {
        restricted[0]: ["tokens:read"],
        restricted[1]: [],
        restricted[2]: ["events:read", "user:read"],
    }
    for token_id, entry in seen["restricted"].items():
        assert entry["sdk"]["id"] == token_id
        assert "permissions" not in entry["sdk"]
    # Each restricted token in each answer that carried one: two lists and a get each.
    assert seen["permissionsDropped"] == 3 * 3


@pytest.mark.node
def test_vercel_sdk_under_a_lifecycle_policy(
    node_client: Path,
    services: Services,
    database_url: str,
    alice: Account,
    tmp_path: Path,
) -> None:
    """Under an inactivity limit every token carries `inactivityExpiresAt` as well; the
    SDK drops it too and still reads everything."""
    env = {
        "TOKEND_INACTIVITY_EXPIRY": "30d",
        "TOKEND_RATE_LIMIT_FAILURES": "1000000000",
    }
    caller = services.authenticator.authenticate(alice.token)
    restricted = [services.tokens.create(caller, name="ci", permissions=["tokens:read"]).token.id]
    with Server(database_url=database_url, log_path=tmp_path / "policy.log", env=env) as server:
        with server.client(alice.token) as api:
            listed = api.get("/v6/user/tokens").json()["tokens"]
        assert all("inactivityExpiresAt" in token for token in listed)
        seen = run_sdk_client(node_client, server, alice.token, restricted)
    assert seen["statuses"]["list"] == 200
    assert set(restricted) <= set(seen["listAfter"]["ids"])
    assert all("inactivityExpiresAt" not in token for token in seen["list"]["tokens"])
