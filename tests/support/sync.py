"""Helpers for the status-sync contract, spoken over HTTP as a back office speaks it: log in with
an agency's integration account, build whole-dossier records and progress steps in the
contract's own field names (dates `yyyyMMddHHmmss`, Asia/Ho_Chi_Minh), post a batch, and read
what a dossier's owner then sees on the portal."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from httpx import AsyncClient, Response

from app.core.calendar import VIETNAM_TZ
from app.core.config import Settings
from app.core.security import sync_credentials
from tests.support.factories import Citizen

SYNC_URL = "/api/v1/sync"
LOGIN_URL = "/api/v1/sync/login"
STATS_URL = "/api/v1/sync/stats"
RECORDS = "DongBoHoSoMC"
STEPS = "CapNhatTienDoHoSoMC"
LOOK_UP = "TraCuuHoSo"

# The contract's status codes used by the tests (TrangThaiHoSo / TrangThai).
SUBMITTED, ACCEPTED, PROCESSING, SUPPLEMENT, RESOLVED, RETURNED = 1, 2, 4, 5, 9, 10

IN_PERSON, ONLINE = 1, 2
PERSON, BUSINESS = 1, 2

_serials = itertools.count(1)


def contract_date(value: datetime) -> str:
    """An aware instant as the contract writes it: `yyyyMMddHHmmss` on the Hanoi wall clock."""
    assert value.tzinfo is not None, f"{value!r} is naive"
    return value.astimezone(VIETNAM_TZ).strftime("%Y%m%d%H%M%S")


def back_office_code(agency_code: str, day: str = "260302") -> str:
    """A fresh dossier code in the portal's shape, numbered by a back office."""
    return f"{agency_code}-{day}-{next(_serials):04d}"


def record(
    code: str,
    procedure_code: str,
    owner: str,
    *,
    status: int,
    submitted: datetime,
    accepted: datetime | None = None,
    claimed_due: datetime | None = None,
    finished: datetime | None = None,
    returned: datetime | None = None,
    supplements: Sequence[tuple[datetime, datetime | None]] = (),
    channel: int = IN_PERSON,
    kind: int = PERSON,
    owner_name: str = "Trần Thị Bình",
    processing_agency: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A DongBoHoSoMC item: the whole dossier as the back office sees it. `supplements` are
    (requested, handed in) pairs; `extra` adds or overrides fields as they are sent."""

    def date_or_none(value: datetime | None) -> str | None:
        return contract_date(value) if value is not None else None

    item: dict[str, Any] = {
        "MaHoSo": code,
        "MaTTHC": procedure_code,
        "ChuHoSo": owner_name,
        "LoaiDoiTuong": kind,
        "SoDinhDanh": owner,
        "NgayNopHoSo": contract_date(submitted),
        "NgayTiepNhan": date_or_none(accepted),
        "NgayHenTra": date_or_none(claimed_due),
        "NgayKetThucXuLy": date_or_none(finished),
        "NgayTra": date_or_none(returned),
        "TrangThaiHoSo": status,
        "KenhThucHien": channel,
        "DanhSachLePhi": [{"MaPhiLePhi": "LP01", "Gia": 50_000}],
        "DanhSachHoSoBoSung": [
            {"NgayBoSung": contract_date(asked), "NgayTiepNhanBoSung": date_or_none(handed_in)}
            for asked, handed_in in supplements
        ],
    }
    if processing_agency is not None:
        item["DonViXuLy"] = processing_agency
    item.update(extra)
    return {name: value for name, value in item.items() if value is not None}


def step(code: str, status: int, at: datetime, **extra: Any) -> dict[str, Any]:
    """A CapNhatTienDoHoSoMC item: one processing step, taken at `at`."""
    item: dict[str, Any] = {
        "MaHoSo": code,
        "TrangThai": status,
        "ThoiDiemXuLy": contract_date(at),
        "NguoiXuLy": "Lê Văn Cường",
        "ChucDanh": "Chuyên viên",
        "PhongBanXuLy": "Bộ phận một cửa",
        "NoiDungXuLy": f"chuyển trạng thái {status}",
    }
    item.update(extra)
    return item


def with_code(items: Iterable[dict[str, Any]], codes: dict[str, str]) -> list[dict[str, Any]]:
    """The same items addressed to other dossiers: MaHoSo renamed through `codes`."""
    return [item | {"MaHoSo": codes[item["MaHoSo"]]} for item in items]


def outcomes(reply: dict[str, Any]) -> list[tuple[str | None, int, str]]:
    """(MaHoSo, error_code, result) of each item of a reply, in the batch's order."""
    return [(r["MaHoSo"], r["error_code"], r["result"]) for r in reply["results"]]


def assert_sync_refusal(response: Response, status_code: int, error_code: int) -> dict[str, Any]:
    """A call refused in the contract's own shape: `{error_code, message}` and that status."""
    assert response.status_code == status_code, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["error_code"] == error_code, body
    assert isinstance(body["message"], str), body
    assert body["message"], body
    return body


async def sync_login(client: AsyncClient, username: str, password: str) -> Response:
    return await client.post(LOGIN_URL, json={"username": username, "password": password})


@dataclass
class BackOffice:
    """One agency's back office, logged in over HTTP."""

    client: AsyncClient
    agency_code: str
    session: str

    async def post(
        self,
        service: str,
        data: Any,
        *,
        madonvi: str | None = None,
        session: str | None = None,
        **envelope: Any,
    ) -> Response:
        body = {
            "session": self.session if session is None else session,
            "madonvi": self.agency_code if madonvi is None else madonvi,
            "service": service,
            "isUpdating": True,
            "data": data,
            **envelope,
        }
        return await self.client.post(SYNC_URL, json=body)

    async def send(self, service: str, data: list[Any]) -> dict[str, Any]:
        """Post a batch that the call accepts; its reply, one result per item."""
        response = await self.post(service, data)
        assert response.status_code == 200, response.text
        reply: dict[str, Any] = response.json()
        assert reply["error_code"] == 0, reply
        assert len(reply["results"]) == len(data), reply
        return reply

    async def records(self, *items: dict[str, Any]) -> dict[str, Any]:
        return await self.send(RECORDS, list(items))

    async def steps(self, *items: dict[str, Any]) -> dict[str, Any]:
        return await self.send(STEPS, list(items))

    async def look_up(self, *codes: str) -> dict[str, Any]:
        return await self.send(LOOK_UP, [{"MaHoSo": code} for code in codes])


async def back_office(client: AsyncClient, settings: Settings, agency_code: str) -> BackOffice:
    """Log in with the agency's integration account (the one `portalsim agencies` prints)."""
    username, password = sync_credentials(settings, agency_code)
    response = await sync_login(client, username, password)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["error_code"] == 0, body
    return BackOffice(client, agency_code, body["session"])


async def owner_of(client: AsyncClient, identifier: str, *, kind: str = "citizen") -> Citizen:
    """The owner a record named by SoDinhDanh, logged in on the portal (no name needed: the
    sync created the account)."""
    response = await client.post(
        "/api/v1/auth/citizen-login", json={"identifier": identifier, "kind": kind}
    )
    assert response.status_code == 200, response.text
    data = response.json()
    return Citizen(identifier, data["access_token"], data["account"]["id"])


async def dossier_of(client: AsyncClient, owner: Citizen, code: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/dossiers/{code}", headers=owner.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def events_of(client: AsyncClient, owner: Citizen, code: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/dossiers/{code}/events", headers=owner.headers)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


# What a dossier's owner sees of its state (its code, owner and sync time aside).
STATE_FIELDS = (
    "status",
    "accepted_at",
    "due_at",
    "finished_at",
    "returned_at",
    "paused_since",
    "supplement_requests",
    "timeliness",
    "claimed_due_at",
    "due_disagreement",
)


def state_of(dossier: dict[str, Any]) -> dict[str, Any]:
    return {name: dossier[name] for name in STATE_FIELDS}


def timeline(events: list[dict[str, Any]]) -> list[tuple[int, str, bool]]:
    """(to_status, at, applied) of each event: a timeline that ignores who reported it."""
    return [(e["to_status"], e["at"], e["applied"]) for e in events]


async def other_agencies(client: AsyncClient, *excluded: str, count: int = 2) -> list[str]:
    """Codes of `count` province-level agencies other than `excluded`."""
    response = await client.get("/api/v1/agencies", params={"level": "province", "size": 20})
    assert response.status_code == 200, response.text
    codes = [a["code"] for a in response.json()["items"] if a["code"] not in excluded]
    assert len(codes) >= count, codes
    return codes[:count]


async def sync_stats(client: AsyncClient, agency_code: str, **params: str) -> list[dict[str, Any]]:
    response = await client.get(STATS_URL, params={"agency": agency_code, **params})
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows
