"""The dossiers-by-status gauge, refreshed from the database when /metrics is scraped."""

from __future__ import annotations

from prometheus_client import Gauge

from app.core.db import Database
from app.core.metrics import Metrics
from app.dossiers.repository import DossierRepository
from app.dossiers.states import Status


def install_status_gauge(metrics: Metrics) -> None:
    gauge = Gauge(
        "portalsim_dossiers",
        "Dossiers by status (TrangThaiHoSo), read from the database at scrape time",
        ["status"],
        registry=metrics.registry,
    )

    async def refresh(database: Database) -> None:
        # A write: the scrape folds the status moves into the tally (DossierStatusMove).
        async with database.write() as session:
            counts = await DossierRepository(session).status_counts()
        for status in Status:
            gauge.labels(str(int(status))).set(counts.get(int(status), 0))

    metrics.on_scrape(refresh)
