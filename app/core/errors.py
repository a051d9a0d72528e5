"""Domain errors and the one handler that renders every error as
`{"error": CODE, "detail": ..., "field": ...}`."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule said no. Subclasses fix the HTTP status and the machine-readable code."""

    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The response body; contracts with a documented error shape override it."""
        return error_body(self.code, self.detail, self.field, **self.extra)


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_payload"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    status_code = 415
    code = "unsupported_media_type"


class JsonTooDeep(InvalidInput):
    code = "json_too_deep"


class InvalidText(InvalidInput):
    """Form text (a field, a part's name, a file name) that does not decode as it declares."""

    code = "invalid_text"


class HeadersTooLarge(DomainError):
    status_code = 431
    code = "headers_too_large"


def error_body(code: str, detail: Any, field: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"error": code, "detail": detail, "field": field, **extra}


def _field_of(location: tuple[Any, ...] | list[Any]) -> str | None:
    # ("body", "applicant", "phone") -> "applicant.phone"; the first item is where it came from.
    parts = [str(part) for part in location[1:]] if len(location) > 1 else []
    return ".".join(parts) or (str(location[0]) if location else None)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return _domain_response(exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return _malformed_json(first, exc.body)
    if tuple(first.get("loc", ()))[:1] == ("body",) and isinstance(first.get("input"), bytes):
        # FastAPI hands a route the raw bytes when the Content-Type does not say JSON.
        return _domain_response(_not_sent_as_json(request.headers.get("content-type")))
    problems = [
        {"field": _field_of(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
        for e in errors
    ]
    return JSONResponse(
        error_body(
            "invalid_payload",
            first.get("msg", "invalid request"),
            _field_of(first.get("loc", ())),
            errors=problems,
        ),
        status_code=422,
    )


def _malformed_json(error: dict[str, Any], document: Any) -> JSONResponse:
    """Where the JSON decoder stopped, as it knows it: line and column (from 1) and the
    character's offset (from 0) in the decoded text."""
    location = tuple(error.get("loc", ()))
    char = location[1] if len(location) > 1 and isinstance(location[1], int) else 0
    reason = (error.get("ctx") or {}).get("error") or "invalid JSON"
    text = document if isinstance(document, str) else ""
    line = text.count("\n", 0, char) + 1
    column = char - text.rfind("\n", 0, char)
    detail = f"the body is not valid JSON: {reason} at line {line}, column {column} (char {char})"
    position = {"line": line, "column": column, "char": char}
    problem = {"field": "body", "message": detail, "type": "json_invalid"}
    return JSONResponse(
        # A JSON syntax error's location is a position in the text, not a field.
        error_body("malformed_json", detail, "body", position=position, errors=[problem]),
        status_code=422,
    )


def _undecodable_json(error: UnicodeDecodeError) -> JSONResponse:
    """Where the bytes stop being text: line and column counted in bytes, as nothing after
    them can be decoded."""
    raw = bytes(error.object)
    line = raw.count(b"\n", 0, error.start) + 1
    column = error.start - raw.rfind(b"\n", 0, error.start)
    at = f"line {line}, column {column} (byte {error.start})"
    detail = f"the body is not valid UTF-8: byte 0x{raw[error.start]:02x} at {at}"
    position = {"line": line, "column": column, "byte": error.start}
    problem = {"field": "body", "message": detail, "type": "json_invalid"}
    return JSONResponse(
        error_body("malformed_json", detail, "body", position=position, errors=[problem]),
        status_code=422,
    )


def _not_sent_as_json(content_type: str | None) -> UnsupportedMediaType:
    sent = f"it was sent as {content_type}" if content_type else "it was sent without one"
    return UnsupportedMediaType(
        f"the body must be sent as JSON with Content-Type: application/json ({sent})",
        field="body",
    )


def _domain_response(error: DomainError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
    return JSONResponse(error.body(), status_code=error.status_code, headers=headers)


_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    401: "unauthorized",
    403: "forbidden",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI raises a bare 400 when it cannot even decode the body (bytes that are not
        # UTF-8, a broken multipart stream); for JSON that is the same fault as a syntax error.
        is_json = "json" in request.headers.get("content-type", "")
        if is_json and isinstance(exc.__cause__, UnicodeDecodeError):
            return _undecodable_json(exc.__cause__)
        return JSONResponse(
            error_body("malformed_json" if is_json else "malformed_body", exc.detail, "body"),
            status_code=422 if is_json else 400,
        )
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette answers from the first route whose path matches; Allow must name them all.
        headers["Allow"] = ", ".join(sorted(_methods_at(request)))
    return JSONResponse(
        error_body(_HTTP_CODES.get(exc.status_code, "http_error"), exc.detail),
        status_code=exc.status_code,
        headers=headers,
    )


def _methods_at(request: Request) -> set[str]:
    routes: list[tuple[re.Pattern[str], set[str]]] = request.app.state.route_methods
    return {
        method
        for pattern, methods in routes
        if pattern.match(request.url.path)
        for method in methods
    }


def route_methods(routers: Iterable[APIRouter]) -> list[tuple[re.Pattern[str], set[str]]]:
    """Each route's path pattern and methods, for the Allow header of a 405."""
    return [
        (route.path_regex, route.methods or set())
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
    ]


# Waiting this long for a pooled connection means the portal is past what it can serve: the
# caller should come back later, not read it as a fault of the portal.
BUSY_RETRY_AFTER_SECONDS = 1


async def _pool_exhausted(_request: Request, exc: Exception) -> JSONResponse:
    logger.warning("no database connection came free in time: %s", exc)
    return JSONResponse(
        error_body("database_busy", "every database connection is in use: retry later"),
        status_code=503,
        headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
    )


async def _database_unreachable(request: Request, exc: Exception) -> JSONResponse:
    """A new database connection could not be opened: the server refused it (PostgreSQL's
    max_connections, a file SQLite cannot open) or is not there. Nothing was written."""
    if isinstance(exc, DBAPIError) and exc.statement is not None:
        return await _unexpected_error(request, exc)  # a statement failed: a fault of ours
    logger.warning("could not connect to the database: %s", exc)
    return JSONResponse(
        error_body("database_unavailable", "the database cannot be reached now: retry later"),
        status_code=503,
        headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
    )


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    return JSONResponse(error_body("internal_error", "unexpected server error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    # SQLAlchemy wraps a refused connection as a DBAPIError without a statement; asyncpg's
    # refused TCP connection arrives as it is.
    app.add_exception_handler(DBAPIError, _database_unreachable)
    app.add_exception_handler(ConnectionError, _database_unreachable)
    app.add_exception_handler(Exception, _unexpected_error)
