"""Builds the dossier service over the request's read or write transaction."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.catalogue.repository import CatalogueRepository
from app.catalogue.service import CatalogueService
from app.core.clock import Clock, ClockDep
from app.core.db import ReadSession, ReadSessionDep, SessionDep, SessionT, WriteSession
from app.dossiers.repository import DossierRepository
from app.dossiers.service import DossierService


def _service(request: Request, session: SessionT, clock: Clock) -> DossierService[SessionT]:
    state = request.app.state
    return DossierService(
        DossierRepository(session),
        CatalogueService(CatalogueRepository(session), state.catalogue_cache.pairs),
        state.calendar,
        clock,
        state.document_store,
    )


async def _write_service(
    request: Request, session: SessionDep, clock: ClockDep
) -> DossierService[WriteSession]:
    return _service(request, session, clock)


async def _read_service(
    request: Request, session: ReadSessionDep, clock: ClockDep
) -> DossierService[ReadSession]:
    return _service(request, session, clock)


DossierServiceDep = Annotated[DossierService[WriteSession], Depends(_write_service)]
ReadDossierServiceDep = Annotated[DossierService[ReadSession], Depends(_read_service)]
