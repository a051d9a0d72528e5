"""HTTP for the sync contract: it answers in the contract's own shape, `{error_code, message}`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.repository import AccountRepository
from app.catalogue.repository import CatalogueRepository
from app.core.clock import Clock, ClockDep
from app.core.config import Settings, SettingsDep
from app.core.db import ReadSessionDep, SessionDep
from app.dossiers.repository import DossierRepository
from app.sync.contract import SyncLogin, SyncReply, SyncRequest
from app.sync.repository import SyncRepository
from app.sync.service import SyncService

router = APIRouter(prefix="/api/v1/sync", tags=["status sync (back offices)"])


def _build(
    request: Request, session: AsyncSession, settings: Settings, clock: Clock
) -> SyncService:
    return SyncService(
        SyncRepository(session),
        CatalogueRepository(session),
        AccountRepository(session),
        DossierRepository(session),
        settings=settings,
        calendar=request.app.state.calendar,
        clock=clock,
    )


def _service(
    request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> SyncService:
    return _build(request, session, settings, clock)


def _read_service(
    request: Request, session: ReadSessionDep, settings: SettingsDep, clock: ClockDep
) -> SyncService:
    return _build(request, session, settings, clock)


SyncServiceDep = Annotated[SyncService, Depends(_service)]
ReadSyncServiceDep = Annotated[SyncService, Depends(_read_service)]


@router.post("/login")
async def sync_login(body: SyncLogin, service: SyncServiceDep) -> dict[str, Any]:
    """Open a session with an agency's integration account (`portalsim agencies` lists them)."""
    return await service.login(body)


@router.post("", response_model=SyncReply)
async def sync(body: SyncRequest, service: SyncServiceDep) -> SyncReply:
    """`DongBoHoSoMC` (whole dossiers), `CapNhatTienDoHoSoMC` (progress steps) or `TraCuuHoSo`
    (look-ups): up to 500 items, each answered in `results`."""
    return await service.handle(body)


class DailyStatOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    agency_code: str
    day: date
    items: int
    created: int
    updated: int
    duplicates: int
    stale: int
    refused: int
    due_disagreements: int


@router.get("/stats", response_model=list[DailyStatOut])
async def sync_stats(
    service: ReadSyncServiceDep,
    agency: Annotated[str | None, Query(max_length=20)] = None,
    since: date | None = None,
    until: date | None = None,
) -> list[DailyStatOut]:
    """What each back office synced per day (Vietnam time): for indicator 1.4 and for seeing
    who reports due dates that disagree with the portal's."""
    rows = await service.daily_stats(agency_code=agency, since=since, until=until)
    return [DailyStatOut.model_validate(row) for row in rows]
