"""The stack's ceiling: FastAPI on uvicorn answering a constant ``GET /v2/user``, no auth.

Run from the repository root with tokend's venv, the way bench/http_throughput.py does:

    .venv/bin/python -m uvicorn bench.ceiling:app --workers 2 --http httptools \
        --no-server-header --log-level info

Those flags are what ``tokend serve`` gives uvicorn: the httptools protocol (tokend's
subclass only changes the answer to unparseable requests), no Server header, and
uvicorn's stock logging at info with the access log on. tokend adds a redaction
filter to its log handlers; that is tokend's own cost, so the ceiling leaves it out.
"""

import json
from typing import Any

from fastapi import FastAPI, Response

# The shape of tokend's answer for a freshly created user.
USER: dict[str, Any] = {
    "user": {
        "id": "utYt6Xzf4ga6YjGp9EaOJkoh",
        "email": "bench@example.com",
        "name": None,
        "username": "bench",
        "createdAt": 1795632298537,
        "avatar": None,
        "defaultTeamId": None,
        "limited": True,
    }
}

BODY = json.dumps(USER, separators=(",", ":")).encode()

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


# FastAPI's cheapest path, as a ceiling should be: async def (no thread-pool hop)
# and the body encoded once, returned as a Response (no per-request serialisation).
@app.get("/v2/user")
async def get_user() -> Response:
    return Response(BODY, media_type="application/json")
