"""HTTP for the sync contract: it answers in the contract's own shape, `{error_code, message}`."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.core.openapi import ErrorBody, json_examples
from app.services import ReadSyncServiceDep, SyncServiceDep
from app.sync.contract import SyncLogin, SyncRefusal, SyncReply, SyncRequest, SyncSession

router = APIRouter(prefix="/api/v1/sync", tags=["status sync (back offices)"])


def _iso_day(value: Any) -> Any:
    # Pydantic also reads a number as a Unix time (`until=-6e-140` is 1 January 1970): a day
    # is asked for as a day.
    if isinstance(value, str) and not ISO_DAY.fullmatch(value):
        raise ValueError("a day is YYYY-MM-DD, e.g. 2026-03-03")
    return value


ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
Day = Annotated[
    date | None, BeforeValidator(_iso_day), Query(description="YYYY-MM-DD, Vietnam time")
]

AGENCY, CODE = "000.00.01.H01", "000.00.01.H01-260302-0001"
SESSION = "<the session from POST /api/v1/sync/login>"
# The contract answers its own refusals as {error_code, message}; the portal's guards and the
# envelope's validation answer in the portal's error body. Where both can, both are declared.
EITHER = ErrorBody | SyncRefusal
SYNC_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": SyncRefusal, "description": "2: bad session; 3: session expired"},
    403: {"model": SyncRefusal, "description": "4: madonvi is not the session's agency"},
    413: {
        "model": EITHER,
        "description": "7 (SyncRefusal): data holds 0 or more than 500 items; "
        "payload_too_large (ErrorBody): the body is over the request limit",
    },
    422: {
        "model": EITHER,
        "description": "5 (SyncRefusal): unknown service; invalid_payload or malformed_json "
        "(ErrorBody): the envelope is not the contract's",
    },
}


@router.post(
    "/login",
    response_model=SyncSession,
    summary="Open a sync session",
    responses={401: {"model": SyncRefusal, "description": "1: wrong username or password"}},
    openapi_extra=json_examples(
        account=(
            "an agency's integration account",
            {"username": AGENCY, "password": "<sync_password from portalsim agencies>"},
        )
    ),
)
async def sync_login(body: SyncLogin, service: ReadSyncServiceDep) -> SyncSession:
    """Open a session with an agency's integration account (`portalsim agencies` lists them)."""
    return await service.login(body)


@router.post(
    "",
    response_model=SyncReply,
    summary="Push dossiers or progress steps, or look dossiers up",
    responses=SYNC_ERRORS,
    openapi_extra=json_examples(
        records=(
            "DongBoHoSoMC: a dossier received at the counter, in processing",
            {
                "session": SESSION,
                "madonvi": AGENCY,
                "service": "DongBoHoSoMC",
                "isUpdating": False,
                "data": [
                    {
                        "MaHoSo": CODE,
                        "MaTTHC": "1.001612",
                        "ChuHoSo": "Trần Thị Bình",
                        "LoaiDoiTuong": 1,
                        "SoDinhDanh": "001190000777",
                        "KenhThucHien": 1,
                        "TrangThaiHoSo": 4,
                        "NgayNopHoSo": "20260302080000",
                        "NgayTiepNhan": "20260302081500",
                        "NgayHenTra": "20260305170000",
                    }
                ],
            },
        ),
        steps=(
            "CapNhatTienDoHoSoMC: a supplement requested, then handed in",
            {
                "session": SESSION,
                "madonvi": AGENCY,
                "service": "CapNhatTienDoHoSoMC",
                "data": [
                    {"MaHoSo": CODE, "TrangThai": 5, "ThoiDiemXuLy": "20260303100000"},
                    {
                        "MaHoSo": CODE,
                        "TrangThai": 4,
                        "ThoiDiemXuLy": "20260304090000",
                        "NguoiXuLy": "Nguyễn Văn C",
                        "NoiDungXuLy": "Đã bổ sung",
                    },
                ],
            },
        ),
        look_up=(
            "TraCuuHoSo: the portal's state of a dossier",
            {
                "session": SESSION,
                "madonvi": AGENCY,
                "service": "TraCuuHoSo",
                "data": [{"MaHoSo": CODE}],
            },
        ),
    ),
)
async def sync(body: SyncRequest, service: SyncServiceDep) -> SyncReply:
    """`DongBoHoSoMC` (whole dossiers), `CapNhatTienDoHoSoMC` (progress steps) or `TraCuuHoSo`
    (look-ups): up to 500 items, each answered in `results`."""
    return await service.handle(body)


class DailyStatOut(BaseModel):
    """One agency's day. Every item received is counted once, under its outcome:
    items = created + updated + duplicates + stale + refused."""

    model_config = ConfigDict(from_attributes=True)

    agency_code: str
    day: date
    items: int = Field(description="items received (look-ups aside)")
    created: int = Field(description="items that opened a dossier (one per new dossier)")
    updated: int = Field(description="items applied to a dossier (result `applied`)")
    duplicates: int = Field(description="items received before")
    stale: int = Field(description="items older than their dossier's latest update")
    refused: int = Field(description="items refused (error_code 10-16)")
    due_disagreements: int = Field(
        description="dossiers whose reported due date (NgayHenTra) fell on another day than "
        "the portal's, counted when a record reported it; not an item outcome"
    )


@router.get("/stats", response_model=list[DailyStatOut], summary="Sync figures per agency and day")
async def sync_stats(
    service: ReadSyncServiceDep,
    agency: Annotated[str | None, Query(max_length=20)] = None,
    since: Day = None,
    until: Day = None,
) -> list[DailyStatOut]:
    """What each back office synced per day (Vietnam time): for indicator 1.4 and for seeing
    who reports due dates that disagree with the portal's."""
    rows = await service.daily_stats(agency_code=agency, since=since, until=until)
    return [DailyStatOut.model_validate(row) for row in rows]
