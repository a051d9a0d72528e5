"""The one place the payment service and the dossier service it drives are assembled: for the
payment routes, the periodic reconciler and `portalsim reconcile`. The app's lifespan builds one
`ServiceFactory` from its parts, the CLI one from the settings; each then asks it for services
over a session whose transaction the caller owns."""

from __future__ import annotations

from dataclasses import dataclass

from app.catalogue.repository import CatalogueRepository
from app.catalogue.service import CatalogueService
from app.core.calendar import WorkingCalendar
from app.core.clock import Clock
from app.core.config import Settings
from app.core.db import Database, SessionT
from app.dossiers.repository import DossierRepository
from app.dossiers.service import DossierService
from app.dossiers.storage import DocumentStore
from app.payments.gateway_client import GatewayClient
from app.payments.repository import PaymentRepository
from app.payments.service import PaymentService


@dataclass(frozen=True, slots=True)
class ServiceFactory:
    settings: Settings
    database: Database
    calendar: WorkingCalendar
    clock: Clock
    document_store: DocumentStore
    gateway: GatewayClient

    def dossiers(self, session: SessionT) -> DossierService[SessionT]:
        return DossierService(
            DossierRepository(session),
            CatalogueService(CatalogueRepository(session)),
            self.calendar,
            self.clock,
            self.document_store,
        )

    def payments(
        self, session: SessionT, dossiers: DossierService[SessionT] | None = None
    ) -> PaymentService[SessionT]:
        """`dossiers`: a request's own dossier service over the same session (its clock)."""
        return PaymentService(
            PaymentRepository(session),
            dossiers or self.dossiers(session),
            CatalogueRepository(session),
            self.settings,
        )
