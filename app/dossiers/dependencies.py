"""Builds the dossier service over the request's read or write transaction."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalogue.repository import CatalogueRepository
from app.catalogue.service import CatalogueService
from app.core.clock import ClockDep
from app.core.db import ReadSessionDep, SessionDep
from app.dossiers.repository import DossierRepository
from app.dossiers.service import DossierService


def _service(request: Request, session: AsyncSession, clock: ClockDep) -> DossierService:
    state = request.app.state
    return DossierService(
        DossierRepository(session),
        CatalogueService(CatalogueRepository(session)),
        state.calendar,
        clock,
        state.document_store,
    )


def _write_service(request: Request, session: SessionDep, clock: ClockDep) -> DossierService:
    return _service(request, session, clock)


def _read_service(request: Request, session: ReadSessionDep, clock: ClockDep) -> DossierService:
    return _service(request, session, clock)


DossierServiceDep = Annotated[DossierService, Depends(_write_service)]
ReadDossierServiceDep = Annotated[DossierService, Depends(_read_service)]
