"""/openapi.json documents what the server really answers."""

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import Account
from tests.support import Server
from tokend.domain.errors import ValidationFailed
from tokend.domain.tokens import NAME_MAX_LENGTH, validate_name
from tokend.models import CreateTokenRequest

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


def test_operation_ids_are_unique_and_name_their_method(server: Server) -> None:
    # FastAPI gives GET and HEAD of one route one id, picked from a set: it differed
    # between processes, so between the nodes of one deployment.
    operations = [
        (method, operation["operationId"])
        for item in document(server)["paths"].values()
        for method, operation in item.items()
    ]
    assert len({operation_id for _, operation_id in operations}) == len(operations)
    assert all(operation_id.endswith(f"_{method}") for method, operation_id in operations)


@given(st.text(max_size=NAME_MAX_LENGTH))
def test_the_documented_name_pattern_is_the_domain_rule(name: str) -> None:
    # Written without a lookahead (see tokend.models), so checked to say the same as
    # validate_name. Lone surrogates, which st.text leaves out, the domain refuses and
    # no portable pattern can name. JSON Schema patterns are anchored by ^ and $.
    pattern = CreateTokenRequest.model_json_schema()["properties"]["name"]["pattern"]
    try:
        validate_name(name)
    except ValidationFailed:
        accepted = False
    else:
        accepted = True
    assert (re.fullmatch(pattern.removeprefix("^").removesuffix("$"), name) is not None) == accepted
