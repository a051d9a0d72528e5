"""The one place where a request's services are assembled.

`Services` holds what lives as long as the app (or a CLI command): settings, database, clock,
calendar, document store, the gateway's client, the catalogue's kept answers. The app's lifespan
builds one; `portalsim reconcile` builds one from the settings. Each of its methods builds a
domain service over a session whose transaction the caller owns, the same way for every caller.
The `...Dep` aliases below are the FastAPI side: the request's session (a read or a write
transaction, committed before the response) and the service over it. The hottest reads take
`services_of(request).dossier_reads()` instead, which opens its own read connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from app.accounts.repository import AccountRepository
from app.catalogue.cache import CatalogueCache
from app.catalogue.repository import CatalogueRepository
from app.catalogue.service import CatalogueService
from app.core.calendar import WorkingCalendar
from app.core.clock import Clock
from app.core.config import Settings
from app.core.db import Database, ReadSession, SessionT, WriteSession
from app.core.dependencies import ReadSessionDep, SessionDep
from app.dossiers.repository import DossierRepository
from app.dossiers.service import DossierReads, DossierService
from app.dossiers.storage import DocumentStore
from app.indicators.repository import IndicatorRepository
from app.indicators.service import IndicatorService
from app.payments.gateway_client import GatewayClient
from app.payments.repository import PaymentRepository
from app.payments.service import PaymentService
from app.sync.repository import SyncRepository
from app.sync.service import SyncService

Built = TypeVar("Built")


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    database: Database
    calendar: WorkingCalendar
    clock: Clock
    document_store: DocumentStore
    gateway: GatewayClient
    catalogue_cache: CatalogueCache

    def catalogue(self, session: SessionT) -> CatalogueService[SessionT]:
        return CatalogueService(CatalogueRepository(session), self.catalogue_cache.pairs)

    def dossiers(self, session: SessionT) -> DossierService[SessionT]:
        return DossierService(
            DossierRepository(session),
            self.catalogue(session),
            self.calendar,
            self.clock,
            self.document_store,
        )

    def payments(self, session: SessionT) -> PaymentService[SessionT]:
        return PaymentService(
            PaymentRepository(session),
            self.dossiers(session),
            CatalogueRepository(session),
            self.settings,
        )

    def sync(self, session: SessionT) -> SyncService[SessionT]:
        return SyncService(
            SyncRepository(session),
            CatalogueRepository(session),
            AccountRepository(session),
            DossierRepository(session),
            settings=self.settings,
            calendar=self.calendar,
            clock=self.clock,
        )

    def indicators(self, session: ReadSession) -> IndicatorService:
        return IndicatorService(IndicatorRepository(session), self.clock)

    def dossier_reads(self) -> DossierReads:
        """The hottest reads, each on a read connection of its own (no session to pass)."""
        return DossierReads(self.database, self.clock)


def services_of(request: Request) -> Services:
    """The running app's services: for the hot routes, which take the request itself rather
    than one more dependency to solve."""
    services: Services = request.app.state.services
    return services


def _over_write_session(build: Callable[[Services, WriteSession], Built]) -> Any:
    async def service(request: Request, session: SessionDep) -> Built:
        return build(request.app.state.services, session)

    return Depends(service)


def _over_read_session(build: Callable[[Services, ReadSession], Built]) -> Any:
    async def service(request: Request, session: ReadSessionDep) -> Built:
        return build(request.app.state.services, session)

    return Depends(service)


CatalogueServiceDep = Annotated[
    CatalogueService[ReadSession], _over_read_session(Services.catalogue)
]
DossierServiceDep = Annotated[DossierService[WriteSession], _over_write_session(Services.dossiers)]
ReadDossierServiceDep = Annotated[
    DossierService[ReadSession], _over_read_session(Services.dossiers)
]
PaymentServiceDep = Annotated[PaymentService[WriteSession], _over_write_session(Services.payments)]
ReadPaymentServiceDep = Annotated[
    PaymentService[ReadSession], _over_read_session(Services.payments)
]
SyncServiceDep = Annotated[SyncService[WriteSession], _over_write_session(Services.sync)]
ReadSyncServiceDep = Annotated[SyncService[ReadSession], _over_read_session(Services.sync)]
IndicatorServiceDep = Annotated[IndicatorService, _over_read_session(Services.indicators)]
