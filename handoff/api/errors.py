"""Typed errors to HTTP, in one place. Nothing reaches a client as a traceback."""
import json
import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError

from billing_core import errors as billing

from handoff.errors import HandoffError

log = logging.getLogger(__name__)

BILLING_STATUS = {
    billing.NotFound: 404, billing.PermissionDenied: 403, billing.IdempotencyConflict: 409,
    billing.ConcessionLimitExceeded: 403, billing.ConcessionFrequencyExceeded: 409,
    billing.NotEligible: 409, billing.InvalidRequest: 400,
    billing.InvalidToken: 404, billing.PaymentLinkExpired: 410,  # payment links: /api/payment-links
}


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        # FastAPI's own handler echoes the input as UTF-8: a lone surrogate in it ("\ud800",
        # valid JSON) failed to encode and the 422 became a 500 with a reset connection.
        body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")

    @app.exception_handler(HandoffError)
    async def handoff_error(request: Request, exc: HandoffError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(billing.BillingError)
    async def billing_error(request: Request, exc: billing.BillingError):
        # the most specific class wins: PaymentLinkExpired is 410, other InvalidTokens 404
        status = next((BILLING_STATUS[kind] for kind in type(exc).__mro__ if kind in BILLING_STATUS),
                      400)
        body = {"detail": str(exc), "code": exc.code}
        if isinstance(exc, billing.ConcessionLimitExceeded):
            body["max_allowed_minor"] = exc.max_allowed_minor
        return JSONResponse(body, status_code=status)

    @app.exception_handler(OverflowError)
    async def number_out_of_range(request: Request, exc: OverflowError):
        # An id or `after` beyond 64 bits (e.g. /api/handoffs/9223372036854775808): SQLite's
        # driver raises OverflowError binding it. No such row can exist: the client's mistake.
        if "too large" not in str(exc) and "too big" not in str(exc):
            return await unexpected(request, exc)
        return JSONResponse({"detail": "a number in the request is out of range"}, status_code=422)

    @app.exception_handler(DataError)
    async def data_out_of_range(request: Request, exc: DataError):
        # The same on PostgreSQL: numeric_value_out_of_range (SQLSTATE 22003).
        if getattr(exc.orig, "sqlstate", None) != "22003":
            return await unexpected(request, exc)
        return JSONResponse({"detail": "a number in the request is out of range"}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)
