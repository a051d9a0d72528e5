"""Factories for test data created through the public HTTP surface, and the few assertions
every HTTP test shares (the error body, no server error)."""

from __future__ import annotations

import copy
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from app.core.calendar import VIETNAM_TZ
from app.core.clock import Clock
from app.core.config import Settings
from app.core.security import agency_key
from app.main import create_app

_serials = itertools.count(1)

PROVINCE_LEVEL = "province"

# Tiny bodies that start with the magic number of each accepted document type.
PDF_BYTES = b"%PDF-1.4\n% a tiny pdf\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(13)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(8) + b"\xff\xd9"
ERROR_KEYS = {"error", "detail", "field"}


def new_pin(province: str = "001") -> str:
    """A fresh valid personal identification number (born 1990, male)."""
    return f"{province}090{next(_serials):06d}"


def vn_time(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant on the agencies' wall clock (Asia/Ho_Chi_Minh)."""
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM_TZ)


def instant(value: str | None) -> datetime:
    """An instant of a JSON body (ISO 8601 with its offset)."""
    assert value is not None, "expected an instant, got null"
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value} has no offset"
    return parsed


@dataclass
class Citizen:
    identifier: str
    token: str
    account_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def login(client: AsyncClient, identifier: str | None = None, **extra: Any) -> Citizen:
    identifier = identifier or new_pin()
    body = {"identifier": identifier, "full_name": "Nguyễn Văn An", **extra}
    response = await client.post("/api/v1/auth/citizen-login", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    return Citizen(identifier, data["access_token"], data["account"]["id"])


def agency_headers(settings: Settings, agency_code: str) -> dict[str, str]:
    return {"X-Agency-Key": agency_key(settings, agency_code)}


# The catalogue is loaded once per session and never changes, so look-ups are kept.
_pairs: dict[tuple[str, str, int | None], tuple[dict[str, Any], dict[str, Any]]] = {}


async def receiving_pair(
    client: AsyncClient,
    *,
    level: str = PROVINCE_LEVEL,
    unit: str = "working_day",
    processing_time: int | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first procedure (by code) of that level and unit, and processing time if given, and
    the first agency that receives it."""
    key = (level, unit, processing_time)
    if key not in _pairs:
        _pairs[key] = await _find_pair(client, level, unit, processing_time)
    return copy.deepcopy(_pairs[key])


async def _find_pair(
    client: AsyncClient, level: str, unit: str, processing_time: int | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    page = 1
    while True:
        response = await client.get(
            "/api/v1/procedures", params={"agency_level": level, "size": 200, "page": page}
        )
        items = response.json()["items"]
        assert items, f"no {level} procedure of {processing_time} {unit}"
        for procedure in items:
            if procedure["processing_unit"] == unit and processing_time in (
                None,
                procedure["processing_time"],
            ):
                agencies = await client.get(
                    "/api/v1/agencies", params={"procedure": procedure["code"], "size": 1}
                )
                return procedure, agencies.json()["items"][0]
        page += 1


async def submit(
    client: AsyncClient,
    citizen: Citizen,
    procedure_code: str,
    agency_code: str,
    *,
    idempotency_key: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    headers = dict(citizen.headers)
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    body = {"procedure_code": procedure_code, "agency_code": agency_code, **extra}
    response = await client.post("/api/v1/dossiers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def transition(
    client: AsyncClient,
    settings: Settings,
    dossier: dict[str, Any],
    to_status: int,
    note: str | None = None,
) -> Response:
    """Ask the dossier's receiving agency to move it to `to_status`."""
    body: dict[str, Any] = {"to_status": to_status}
    if note is not None:
        body["note"] = note
    return await client.post(
        f"/api/v1/agency/dossiers/{dossier['code']}/transitions",
        json=body,
        headers=agency_headers(settings, dossier["agency_code"]),
    )


async def move(
    client: AsyncClient, settings: Settings, dossier: dict[str, Any], *statuses: int
) -> dict[str, Any]:
    """Apply the agency transitions in order, each of which must succeed; the dossier after."""
    for to_status in statuses:
        response = await transition(client, settings, dossier, to_status)
        assert response.status_code == 200, response.text
        dossier = response.json()
    return dossier


async def upload(
    client: AsyncClient, citizen: Citizen, code: str, *files: tuple[str, bytes, str]
) -> Response:
    """POST documents (filename, content, declared content type) in one multipart request."""
    return await client.post(
        f"/api/v1/dossiers/{code}/documents",
        files=[("files", file) for file in files],
        headers=citizen.headers,
    )


async def supplement(
    client: AsyncClient,
    citizen: Citizen,
    code: str,
    *files: tuple[str, bytes, str],
    note: str | None = None,
) -> Response:
    """The citizen hands in a requested supplement: documents and/or a note (multipart)."""
    return await client.post(
        f"/api/v1/dossiers/{code}/supplement",
        files=[("files", file) for file in files] or None,
        data={"note": note} if note is not None else None,
        headers=citizen.headers,
    )


async def read_dossier(client: AsyncClient, citizen: Citizen, code: str) -> dict[str, Any]:
    """The dossier as its owner sees it now."""
    response = await client.get(f"/api/v1/dossiers/{code}", headers=citizen.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


@asynccontextmanager
async def serve(
    settings: Settings, clock: Clock | None = None
) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    """An app of its own built from `settings` (on `clock` if given), and a client to it."""
    application = create_app(settings)
    if clock is not None:
        application.state.clock = clock
    async with application.router.lifespan_context(application):
        transport = ASGITransport(app=application, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://portal.test") as http:
            yield application, http


def assert_error(
    response: Response, status_code: int, error: str, *, field: str | None = None
) -> dict[str, Any]:
    """The response is the portal's error body with that status and code (and field, if
    given); returns the body."""
    assert response.status_code == status_code, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    assert body.keys() >= ERROR_KEYS, body
    assert body["error"] == error, body
    assert isinstance(body["detail"], str), body
    assert body["detail"], body
    if field is not None:
        assert body["field"] == field, body
    return body


def server_errors(app: FastAPI) -> list[str]:
    """The "method route status" of every request the app answered with a 5xx, read from its
    own request counter."""
    found: list[str] = []
    for family in app.state.metrics.requests.collect():
        for sample in family.samples:
            labels = sample.labels
            if sample.name.endswith("_total") and labels["status"].startswith("5"):
                found.append(f"{labels['method']} {labels['route']} {labels['status']}")
    return found


def assert_no_server_errors(app: FastAPI) -> None:
    assert server_errors(app) == []


async def fee_bearing_pair(client: AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """A province procedure that charges fees, and an agency that receives it."""
    page = 1
    while True:
        response = await client.get(
            "/api/v1/procedures", params={"agency_level": "province", "size": 200, "page": page}
        )
        items = response.json()["items"]
        assert items, "no fee-bearing province procedure"
        for procedure in items:
            if sum(fee["amount"] for fee in procedure["fees"]) > 0:
                agencies = await client.get(
                    "/api/v1/agencies", params={"procedure": procedure["code"], "size": 1}
                )
                return procedure, agencies.json()["items"][0]
        page += 1


async def dossier_with_fees_due(
    client: AsyncClient, settings: Settings
) -> tuple[Citizen, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A citizen's dossier of a fee-bearing procedure, moved by its agency to status 6 (fees
    requested); returns the citizen, the dossier, the procedure and the agency."""
    procedure, agency = await fee_bearing_pair(client)
    citizen = await login(client)
    dossier = await submit(client, citizen, procedure["code"], agency["code"])
    for status in (2, 4, 6):
        moved = await client.post(
            f"/api/v1/agency/dossiers/{dossier['code']}/transitions",
            json={"to_status": status},
            headers=agency_headers(settings, agency["code"]),
        )
        assert moved.status_code == 200, moved.text
    return citizen, dossier, procedure, agency
