"""Typed errors to HTTP, in one place. Nothing reaches a client as a traceback."""
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from billing_core import errors as billing

from handoff.errors import HandoffError

log = logging.getLogger(__name__)

BILLING_STATUS = {
    billing.NotFound: 404, billing.PermissionDenied: 403, billing.IdempotencyConflict: 409,
    billing.ConcessionLimitExceeded: 403, billing.ConcessionFrequencyExceeded: 409,
    billing.NotEligible: 409, billing.InvalidRequest: 400, billing.InvalidToken: 400,
}


def install(app: FastAPI) -> None:
    @app.exception_handler(HandoffError)
    async def handoff_error(request: Request, exc: HandoffError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(billing.BillingError)
    async def billing_error(request: Request, exc: billing.BillingError):
        status = next((code for kind, code in BILLING_STATUS.items() if isinstance(exc, kind)), 400)
        body = {"detail": str(exc), "code": exc.code}
        if isinstance(exc, billing.ConcessionLimitExceeded):
            body["max_allowed_minor"] = exc.max_allowed_minor
        return JSONResponse(body, status_code=status)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)
