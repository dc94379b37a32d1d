"""Every 4xx and 5xx answer is JSON ``{"error": code, "message": text}``. FastAPI's own validation
errors are reshaped to it; an unreachable database (or broker) is a 503 with ``Retry-After``;
a 500 is the last resort and is logged."""
from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import (DataError, DBAPIError, DisconnectionError, InterfaceError, OperationalError,
                            SQLAlchemyError)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

log = structlog.get_logger("gateway")

RETRY_AFTER_SECONDS = 5
#: codes of the plain HTTP errors Starlette raises itself (unknown path, wrong method, …)
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
              406: "not_acceptable", 413: "oversize", 415: "unsupported_media_type", 422: "invalid_request"}


class ApiError(Exception):
    """An answer other than success, raised from anywhere in a request."""

    def __init__(self, status: int, error: str, message: str, *, headers: dict[str, str] | None = None,
                 **extra):
        super().__init__(message)
        self.status, self.error, self.message, self.headers, self.extra = status, error, message, headers, extra


def error_response(status: int, error: str, message: str, headers: dict[str, str] | None = None,
                   **extra) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, **extra}, status_code=status, headers=headers)


def unavailable_response() -> JSONResponse:
    return error_response(503, "unavailable", "the claims database or broker cannot be reached; nothing was "
                                              "accepted, send it again later",
                          headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def is_unavailable(exc: BaseException) -> bool:
    """Trouble reaching the database or broker, as opposed to a bug: the request may be retried."""
    if isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)):
        return True          # connection refused, lost or closed, server shutting down, SQLite busy
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (ConnectionError, TimeoutError))


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is invalid"


def install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError):
        return error_response(exc.status, exc.error, exc.message, exc.headers, **exc.extra)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError):
        return error_response(422, "invalid_request", _validation_message(exc))

    @api.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return error_response(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @api.exception_handler(SQLAlchemyError)
    async def _database(request: Request, exc: SQLAlchemyError):
        if is_unavailable(exc):
            log.warning("gateway.database_unavailable", path=request.url.path, error=type(exc).__name__,
                        detail=(str(exc).splitlines() or [""])[0][:300])
            return unavailable_response()
        if isinstance(exc, DataError):
            # a value the envelope check let through but a column refuses (PostgreSQL: a source longer
            # than its column): the sender's data, not the service, so a 4xx — logged, as the check
            # should have refused (and quarantined) it
            log.error("gateway.unstorable", path=request.url.path, error=(str(exc.orig).splitlines() or [""])[0][:300])
            return error_response(422, "unstorable", "a field of the event cannot be stored (too long or "
                                                     "malformed); nothing was stored")
        log.error("gateway.database_error", path=request.url.path, exc_info=exc)
        return error_response(500, "internal", "the request could not be stored; it was not accepted")

    @api.exception_handler(OSError)
    async def _network(request: Request, exc: OSError):
        if is_unavailable(exc):
            log.warning("gateway.unreachable", path=request.url.path, error=type(exc).__name__)
            return unavailable_response()
        log.error("gateway.os_error", path=request.url.path, exc_info=exc)
        return error_response(500, "internal", "the request failed; it was not accepted")

    @api.exception_handler(ClientDisconnect)
    async def _gone(request: Request, _: ClientDisconnect):
        log.info("gateway.client_disconnected", path=request.url.path)
        return error_response(400, "client_disconnected", "the body was not received whole; nothing was stored")

    @api.exception_handler(Exception)
    async def _last_resort(request: Request, exc: Exception):
        log.error("gateway.unhandled", path=request.url.path, exc_info=exc)
        return error_response(500, "internal", "the request failed; it was not accepted")
