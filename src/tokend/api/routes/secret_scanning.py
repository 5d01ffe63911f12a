"""GitHub secret scanning's partner endpoint: leaked tokens reported, revoked, labelled."""

import hashlib
import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from pydantic import TypeAdapter, ValidationError

from tokend.api.dependencies import RequesterDep, ServicesDep
from tokend.api.github_keys import KEY_ID_HEADER, SIGNATURE_HEADER, GitHubKeys, KeysUnavailable
from tokend.api.routes.responses import errors
from tokend.http.errors import error_response
from tokend.models import LeakLabel, LeakReport
from tokend.service.leaks import Finding

log = logging.getLogger("tokend.api")
router = APIRouter(tags=["Secret scanning"])

_REPORTS = TypeAdapter(list[LeakReport])


@router.post(
    "/v1/secret-scanning/github",
    response_model=list[LeakLabel],
    responses=errors(400, 401),
    summary="Report leaked tokens (GitHub secret scanning partner protocol)",
    description=f"Signed by GitHub: `{KEY_ID_HEADER}` names a key of the document in "
    f"`TOKEND_SECRET_SCANNING_KEYS`, `{SIGNATURE_HEADER}` is the base64 ECDSA P-256 "
    "SHA-256 signature of the raw body. Each reported string that is a live tokend token "
    "is revoked and marked leaked at `url`.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _REPORTS.json_schema()}},
        },
        "parameters": [
            {"name": KEY_ID_HEADER, "in": "header", "required": True, "schema": {"type": "string"}},
            {
                "name": SIGNATURE_HEADER,
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
            },
        ],
    },
)
async def report_leaks(request: Request, services: ServicesDep, requester: RequesterDep) -> Any:
    body = await request.body()
    # The signature is checked on the bytes as sent, before anything is parsed.
    try:
        keys: GitHubKeys = request.app.state.github_keys
        keys.verify(body, request.headers.get(KEY_ID_HEADER), request.headers.get(SIGNATURE_HEADER))
    except KeysUnavailable as unavailable:
        log.warning("leak report refused: %s", unavailable)
        return error_response(
            503,
            "service_unavailable",
            "This server cannot check leak reports: its secret-scanning keys are not set up.",
        )
    try:
        # Python's parser, not pydantic's: it reads a lone surrogate (\ud800) as text
        # rather than refusing the whole report; such text is made storable later.
        reports = _REPORTS.validate_python(json.loads(body))
    except (ValueError, ValidationError):
        return error_response(
            400,
            "bad_request",
            'The body must be a JSON array of {"token", "type", "url", "source"} objects.',
        )
    findings = [Finding(report.token, report.url) for report in reports]
    confirmed = services.leaks.report(findings, requester)
    return [
        LeakLabel(
            token_hash=hashlib.sha256(report.token.encode("utf-8", "surrogatepass")).hexdigest(),
            token_type=report.type,
            label="true_positive" if live else "false_positive",
        )
        for report, live in zip(reports, confirmed, strict=True)
    ]
