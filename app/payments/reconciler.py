"""Reconciliation outside a request: the periodic task of a serving portal, and the CLI."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx

from app.catalogue.repository import CatalogueRepository
from app.catalogue.service import CatalogueService
from app.core.config import Settings
from app.core.db import Database
from app.dossiers.repository import DossierRepository
from app.dossiers.service import DossierService
from app.payments.gateway_client import GatewayClient
from app.payments.repository import PaymentRepository
from app.payments.service import PaymentService

logger = logging.getLogger(__name__)


async def reconcile_once(
    database: Database, settings: Settings, state: Any, http: httpx.AsyncClient
) -> Counter[str]:
    """One reconciliation pass in its own transaction."""
    async with database.write_sessions() as session, session.begin():
        dossiers = DossierService(
            DossierRepository(session),
            CatalogueService(CatalogueRepository(session)),
            state.calendar,
            state.clock,
            state.document_store,
        )
        service = PaymentService(
            PaymentRepository(session),
            dossiers,
            CatalogueRepository(session),
            settings,
            GatewayClient(settings, http),
        )
        return await service.reconcile(
            older_than=timedelta(minutes=settings.payment_reconcile_after_minutes)
        )


def start_reconciler(
    database: Database, settings: Settings, state: Any
) -> asyncio.Task[None] | None:
    if settings.payment_reconcile_interval_seconds <= 0:
        return None

    async def loop() -> None:
        while True:
            await asyncio.sleep(settings.payment_reconcile_interval_seconds)
            try:
                report = await reconcile_once(database, settings, state, state.gateway_http)
            except Exception:
                logger.exception("reconciliation pass failed")
            else:
                if report:
                    logger.info("reconciliation: %s", dict(report))

    return asyncio.create_task(loop(), name="payments-reconciler")
