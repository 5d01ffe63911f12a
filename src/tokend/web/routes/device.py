"""``/device``: a person approves (or denies) a device's sign-in (RFC 8628).

The device shows a code; the person types it here ("Code", "Continue"), or follows
the link with it (``/device?user_code=BCDF-GHJK``, the verification_uri_complete),
sees what is asked, and answers "Approve" or "Deny". Every wrong code counts against
the address (`DeviceService.pending`), so codes cannot be guessed quickly.
"""

from collections.abc import Callable

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tokend.domain.device import DeviceAuthorization, format_user_code, normalize_user_code
from tokend.domain.errors import NotFound, RateLimited
from tokend.web.pages import WebRoute, posted_form, render, text
from tokend.web.sessions import SignedIn, Visit, requester, services_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)

CODE_MAX_LENGTH = 20


def _code_page(
    request: Request, visit: Visit, *, status: int = 200, code: str = "", error: str | None = None
) -> Response:
    return render(
        request,
        "device/code.html",
        visit=visit,
        status=status,
        errors={"user_code": error} if error else None,
        code=code,
    )


async def _with_code(
    request: Request, visit: Visit, code: str, call: Callable[[], DeviceAuthorization]
) -> DeviceAuthorization | Response:
    """What ``call`` finds for the typed code, or the code page again saying why not
    (a wrong code, or too many of them from this address)."""
    try:
        return await run_in_threadpool(call)
    except NotFound as exc:
        return _code_page(request, visit, status=400, code=code, error=str(exc))
    except RateLimited as exc:
        response = _code_page(request, visit, status=429, code=code, error=str(exc))
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response


@router.get("/device")
async def device(request: Request, visit: SignedIn) -> Response:
    code = request.query_params.get("user_code", "")[:CODE_MAX_LENGTH]
    if not code.strip():
        return _code_page(request, visit)
    devices = services_of(request).devices
    pending = await _with_code(
        request, visit, code, lambda: devices.pending(code, requester(request))
    )
    if isinstance(pending, Response):
        return pending
    normalized = normalize_user_code(code) or ""
    return render(
        request,
        "device/confirm.html",
        visit=visit,
        device=pending,
        code=normalized,
        display_code=format_user_code(normalized),
    )


@router.post("/device")
async def decide(request: Request, visit: SignedIn) -> Response:
    form = await posted_form(request, visit)
    code = text(form, "user_code", CODE_MAX_LENGTH)
    approve = text(form, "decision", 10) == "approve"
    devices = services_of(request).devices
    device = await _with_code(
        request,
        visit,
        code,
        lambda: devices.decide(visit.person, code, approve=approve, requester=requester(request)),
    )
    if isinstance(device, Response):
        return device
    return render(request, "device/done.html", visit=visit, device=device, approved=approve)
