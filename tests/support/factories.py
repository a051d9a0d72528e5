"""Factories for test data created through the public HTTP surface."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from httpx import AsyncClient

from app.core.config import Settings
from app.core.security import agency_key

_serials = itertools.count(1)

PROVINCE_LEVEL = "province"


def new_pin(province: str = "001") -> str:
    """A fresh valid personal identification number (born 1990, male)."""
    return f"{province}090{next(_serials):06d}"


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


async def receiving_pair(
    client: AsyncClient, *, level: str = PROVINCE_LEVEL, unit: str = "working_day"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A procedure of that level and unit, and an agency that receives it."""
    page = 1
    while True:
        response = await client.get(
            "/api/v1/procedures", params={"agency_level": level, "size": 200, "page": page}
        )
        items = response.json()["items"]
        assert items, f"no {level} procedure measured in {unit}"
        for procedure in items:
            if procedure["processing_unit"] == unit:
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
