"""The published contract: every error response declared with the body the portal really
answers, and the documentation pages served from the project (no CDN, no network).

Error responses are declared in one place, here, and derived rather than written per route:
the codes of each status come from the domain error classes (each knows its status and code)
plus the few the handlers and guards answer without a class; which statuses an operation
declares follows from what the operation takes (a body, path parameters, credentials), because
that is what decides which guards and errors can answer it. A route that answers in a contract
of its own (the sync contract) declares those statuses itself, and its declaration wins.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from app.core.errors import DomainError

REF = "#/components/schemas/{model}"
ERROR_BODY = "ErrorBody"

# Codes answered by the handlers and guards of app/core (errors.py, guards.py) without a domain
# error class of their own; every other code comes from a DomainError subclass.
HANDLER_CODES: dict[int, tuple[str, ...]] = {
    400: ("malformed_body", "invalid_characters"),
    401: ("unauthorized",),
    404: ("not_found",),
    413: ("payload_too_large",),
    415: ("unsupported_media_type",),
    422: ("malformed_json", "invalid_payload"),
}
REASONS = {
    400: "Bad request: a body that cannot be decoded, or NUL characters in the URL",
    401: "Missing, malformed or expired credentials",
    404: "No such resource (or not yours: other people's dossiers look missing)",
    409: "Conflict with the resource's state: an illegal transition, a reused key",
    413: "The request body, or a document, is too large",
    415: "A body not sent as JSON, or a document of a type that is not accepted",
    422: "Invalid payload: every problem is listed in `errors`",
    431: "Request headers too large or too many",
}


class Problem(BaseModel):
    """One problem of an invalid payload."""

    field: str | None = Field(
        description="where: `body`, or a dotted path such as `applicant.phone`"
    )
    message: str
    type: str | None = Field(default=None, description="the validator's error type")


class ErrorBody(BaseModel):
    """Every portal error: a machine-readable code, a sentence, and the field at fault."""

    model_config = ConfigDict(
        # A domain error may add facts of its own (e.g. the statuses of an illegal transition).
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "error": "illegal_transition",
                    "detail": "illegal transition 10 (Đã trả kết quả) -> 4 (Đang xử lý)",
                    "field": "to_status",
                    "from_status": 10,
                    "to_status": 4,
                },
                {
                    "error": "invalid_payload",
                    "detail": "Field required",
                    "field": "agency_code",
                    "errors": [
                        {"field": "agency_code", "message": "Field required", "type": "missing"}
                    ],
                },
            ]
        },
    )

    error: str = Field(description="the error's code; each status lists its codes")
    detail: str = Field(description="what went wrong, for people")
    field: str | None = Field(description="the field, parameter or header at fault, if one")
    errors: list[Problem] | None = Field(
        default=None, description="for invalid_payload and malformed_json: every problem"
    )


def domain_errors(base: type[DomainError] = DomainError) -> Iterator[type[DomainError]]:
    """The error classes under `base` that answer in the portal's own shape (a contract with
    a shape of its own overrides `body`). DomainError itself is only a base: never raised."""
    for subclass in base.__subclasses__():
        if subclass.body is DomainError.body:
            yield subclass
        yield from domain_errors(subclass)


def codes_by_status() -> dict[int, list[str]]:
    """Each error status and the codes it can carry, from the error classes and the handlers."""
    codes: dict[int, set[str]] = {status: set(names) for status, names in HANDLER_CODES.items()}
    for error in domain_errors():
        codes.setdefault(error.status_code, set()).add(error.code)
    return {status: sorted(names) for status, names in sorted(codes.items())}


def error_response(status: int, codes: dict[int, list[str]]) -> dict[str, Any]:
    listed = ", ".join(f"`{code}`" for code in codes.get(status, []))
    return {
        "description": f"{REASONS.get(status, 'Error')}. `error` is one of: {listed}",
        "content": {"application/json": {"schema": {"$ref": REF.format(model=ERROR_BODY)}}},
    }


def _statuses(method: str, operation: dict[str, Any], codes: dict[int, list[str]]) -> set[int]:
    """The error statuses an operation can answer, from what it takes."""
    parameters = operation.get("parameters", [])
    body = operation.get("requestBody")
    # The header guard answers any request.
    statuses = {431} & codes.keys()
    if parameters or body:
        # Validation (422) and the URL guard (400: NUL characters) see every input.
        statuses |= {400, 422}
    if body:
        # Size, and the media type: JSON sent as something else, a document of another type.
        statuses |= {413, 415}
    if operation.get("security"):
        statuses.add(401)
    in_path = any(p.get("in") == "path" for p in parameters)
    if in_path:
        statuses.add(404)
    keyed = any(p.get("name") == "Idempotency-Key" for p in parameters)
    if method == "post" and (in_path or keyed):
        # An action on an existing resource, or a keyed creation: the state or the key may
        # conflict.
        statuses.add(409)
    return statuses


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for error statuses a route answers beyond what it takes would tell (e.g. a
    query parameter naming a resource that does not exist): described like the others."""
    return {status: {"model": ErrorBody, "description": DERIVED} for status in statuses}


DERIVED = "(the codes of this status)"


def _is_default_422(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))


def declare_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the error responses to every operation of a generated schema (in place)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    _, definitions = models_json_schema([(ErrorBody, "serialization")], ref_template=REF)
    components.update(definitions.get("$defs", {}))
    codes = codes_by_status()
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            for status in sorted(_statuses(method, operation, codes)):
                declared = responses.get(str(status))
                if declared is None or _is_default_422(declared):
                    responses[str(status)] = error_response(status, codes)
            for status, response in responses.items():
                if response.get("description") == DERIVED:
                    responses[status] = error_response(int(status), codes)
    # FastAPI's own 422 body is never answered: drop its schemas once nothing refers to them.
    if "HTTPValidationError" not in repr(schema.get("paths")):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    return schema


def install_contract(app: FastAPI) -> None:
    """Generate the app's schema with the error responses declared."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def json_examples(**examples: tuple[str, Any]) -> dict[str, Any]:
    """`openapi_extra` giving a JSON request body named examples: name=(summary, value)."""
    return {
        "requestBody": {
            "content": {
                "application/json": {
                    "examples": {
                        name: {"summary": summary, "value": value}
                        for name, (summary, value) in examples.items()
                    }
                }
            }
        }
    }


# -- documentation pages, with their assets served from an installed package -----------------

# fastapi-offline ships Swagger UI 5 and FastAPI's favicon as files; only the files are used
# (its app factory is not), so the page stays FastAPI's own. No ReDoc page: its script fetches
# its logo from its CDN, which offline is a failed request.
ASSETS_PACKAGE = "fastapi_offline"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}
ASSETS_URL = "/docs/assets"
DOCS_URL, OAUTH2_REDIRECT_URL = "/docs", "/docs/oauth2-redirect"

docs_router = APIRouter(include_in_schema=False)


@docs_router.get(DOCS_URL)
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title}: API",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        oauth2_redirect_url=OAUTH2_REDIRECT_URL,
    )


@docs_router.get(OAUTH2_REDIRECT_URL)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@cache
def assets_dir() -> Path:
    # Looked up on first use, not at import: the app's import time matters (worker start-up).
    # A wheel installs as a directory, so its files have real paths.
    return Path(str(resources.files(ASSETS_PACKAGE) / "static"))


@docs_router.get(f"{ASSETS_URL}/{{name}}")
async def docs_asset(name: str) -> FileResponse:
    # Only the listed files: a name is never joined into a path unchecked.
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail=f"no documentation asset {name!r}")
    return FileResponse(
        assets_dir() / name,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400"},
    )
