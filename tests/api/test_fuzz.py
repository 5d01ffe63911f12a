"""schemathesis against tokend's own OpenAPI document, on a live server, on both databases.

Every documented operation runs twice, with a valid token and without one (no
header, or whatever schemathesis draws for it), under all of schemathesis's
per-response checks: no 5xx, every answer one the document describes (status code,
content type, body schema, headers), valid requests accepted, invalid ones refused,
and a token-only operation refused without the token.

The schema is built from the app in-process at import time: schemathesis 4's loader
for a live URL inside pytest (`schemathesis.pytest.from_fixture`) reads
`Function._nodeid`, which pytest 9.2 no longer has.
`test_the_fuzzed_document_is_the_servers_own` keeps the two documents equal.
"""

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, settings
from schemathesis import BaseSchema, Case, CheckContext, Response
from schemathesis.specs.openapi.checks import positive_data_acceptance, unsupported_method

from tests.api.github_signing import KEY_ID, write_keys
from tests.conftest import SIGNING_KEY_SECRET, Account
from tests.support import Server
from tokend.api.app import create_app
from tokend.bootstrap import Services

# schemathesis types an operation by four parameters that no test here looks at.
FuzzCase = Case[Any]
DOCUMENT = create_app().openapi()


def load(*, draw_authorization: bool) -> BaseSchema:
    generation = {
        # Unknown query parameters are ignored, as most HTTP APIs do, not refused.
        "allow-extra-parameters": False,
        "with-security-parameters": draw_authorization,
    }
    # An explicit config: discovery would read any schemathesis.toml above the work tree.
    config = schemathesis.Config.from_dict({"generation": generation})
    return schemathesis.openapi.from_dict(DOCUMENT, config=config)


# With a token the test sends a valid one itself: a drawn Authorization header that
# it overwrote would make a case meant to be refused (no credentials) a valid one.
authenticated = load(draw_authorization=False)
anonymous = load(draw_authorization=True)

# Per operation and run; derandomized so that CI and a developer see the same cases.
BOUNDED = settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    # One fresh user per case from a function-scoped fixture; schemathesis's
    # strategies are large and filter much by design.
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="session")
def fuzz_server(
    services: Services, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("fuzz")
    # A server set up for leak reports, as a deployment would be (without keys the
    # endpoint answers 503): no drawn signature matches this key, so they are 401s.
    keys = folder / "github-keys.json"
    write_keys(keys, {KEY_ID: ec.generate_private_key(ec.SECP256R1())})
    env = {
        # Thousands of requests fail authentication on purpose. Rate limiting would
        # answer them 429, which passes only where the document lists 429.
        "TOKEND_RATE_LIMIT_FAILURES": "1000000",
        "TOKEND_SECRET_SCANNING_KEYS": str(keys),
        "TOKEND_SIGNING_KEY_SECRET": SIGNING_KEY_SECRET,
    }
    log = folder / "tokend.log"
    with Server(database_url=database_url, log_path=log, env=env) as running:
        yield running


# Schema-valid bodies name codes, refresh tokens and clients that do not exist.
OAUTH_TOKEN_PATHS = ("/v1/oauth/token", "/v1/integrations/sso/token")
CHECK_PATH = "/v1/auth/check"


def accepted_unless_expired(ctx: CheckContext, response: Response, case: FuzzCase) -> bool | None:
    """positive_data_acceptance, except for an expiresAt that is not in the future: the
    document cannot say "after now", so such a body is schema-valid yet rightly a 400;
    nor can it say which codes, clients or permissions exist, so drawn ones are rightly
    refused."""
    if case.operation.path in OAUTH_TOKEN_PATHS and response.status_code in (400, 401):
        return None
    if case.operation.path == CHECK_PATH and response.status_code == 400 and case.query:
        return None  # drawn permission names are not in the catalogue either
    if case.operation.path == "/v1/webhooks" and response.status_code == 400:
        return None  # a drawn URL is not https to a public host that resolves
    body = case.body
    if isinstance(body, dict) and body.get("permissions") and response.status_code == 400:
        return None  # drawn names are not in the catalogue; the document cannot say which are
    expires_at = body.get("expiresAt") if isinstance(body, dict) else None
    if isinstance(expires_at, int | float) and expires_at <= time.time() * 1000:
        return None
    return positive_data_acceptance(ctx, response, case)


def call_and_validate(case: FuzzCase, server: Server, headers: dict[str, str] | None) -> None:
    excluded: list[Any] = [positive_data_acceptance]
    if case.operation.path == CHECK_PATH:
        # The gateway check answers every method as its GET (SPEC §13: proxies send
        # the original request's method), so no method is "unsupported" there.
        excluded.append(unsupported_method)
    case.call_and_validate(
        base_url=server.url,
        headers=headers,
        excluded_checks=excluded,
        additional_checks=[accepted_unless_expired],
    )


@authenticated.parametrize()
@BOUNDED
def test_with_a_valid_token(
    case: FuzzCase, fuzz_server: Server, services: Services, make_user: Callable[..., Account]
) -> None:
    # A fresh token for every case: DELETE /v3/user/tokens/current (the documented
    # example) revokes the calling token, which must not turn later cases into 401s.
    # Introspection takes a service token; a user's would only ever be refused (403).
    if case.operation.path == "/v1/introspect":
        token = services.admin.create_service(f"fuzz-{uuid.uuid4().hex[:12]}").issued.secret
    else:
        token = make_user("fuzz").token
    call_and_validate(case, fuzz_server, {"Authorization": f"Bearer {token}"})


@anonymous.parametrize()
@BOUNDED
def test_without_a_token(case: FuzzCase, fuzz_server: Server) -> None:
    call_and_validate(case, fuzz_server, headers=None)


def test_the_fuzzed_document_is_the_servers_own(fuzz_server: Server) -> None:
    with fuzz_server.client() as api:
        assert api.get("/openapi.json").json() == DOCUMENT
