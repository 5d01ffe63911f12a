"""/openapi.json documents what the server really answers."""

from typing import Any

from tests.conftest import Account
from tests.support import Server

OPERATIONS = {
    ("/v3/user/tokens", "post"),
    ("/v6/user/tokens", "get"),
    ("/v5/user/tokens/{tokenId}", "get"),
    ("/v3/user/tokens/{tokenId}", "delete"),
    ("/v2/user", "get"),
}


def document(server: Server) -> dict[str, Any]:
    with server.client() as api:
        response = api.get("/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


def test_every_endpoint_is_documented_with_its_errors(server: Server) -> None:
    doc = document(server)
    found = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert found >= OPERATIONS
    for path, method in OPERATIONS:
        responses = doc["paths"][path][method]["responses"]
        assert "422" not in responses, (path, method)
        assert {"200", "400", "401", "429", "500", "503"} <= set(responses), (path, method)
        assert doc["paths"][path][method]["security"] == [{"HTTPBearer": []}]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    limit = doc["components"]["schemas"]["RateLimit"]  # the 429's limit object
    assert set(limit["properties"]) == {"remaining", "reset", "resetMs", "total"}


def test_documented_token_fields_are_what_the_server_sends(server: Server, alice: Account) -> None:
    schema = document(server)["components"]["schemas"]["AuthToken"]
    with server.client(alice.token) as api:
        token = api.post(
            "/v3/user/tokens", json={"name": "doc", "expiresAt": 32503680000000}
        ).json()["token"]
    assert set(token) <= set(schema["properties"])
    assert set(schema["required"]) <= set(token)
    # Optional fields are documented without null, since they are omitted instead.
    for field in ("expiresAt", "prefix", "leakedUrl"):
        assert "anyOf" not in schema["properties"][field]
