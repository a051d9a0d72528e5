"""All SQL of payments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.dossiers.models import Dossier
from app.payments.models import Payment

PAID = "success"


class PaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, payment: Payment) -> None:
        self.session.add(payment)
        await self.session.flush()

    async def by_txn_ref(self, txn_ref: str, *, for_update: bool = False) -> Payment | None:
        statement = select(Payment).where(Payment.txn_ref == txn_ref)
        if for_update:
            # Concurrent IPNs for one payment queue here on PostgreSQL (SQLite's writers are
            # serial already): the first confirms, the others see it confirmed.
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def by_key(self, dossier_id: int, key: str) -> Payment | None:
        return await self.session.scalar(
            select(Payment).where(Payment.dossier_id == dossier_id, Payment.idempotency_key == key)
        )

    async def of_dossier(self, dossier_id: int) -> Sequence[Payment]:
        statement = select(Payment).where(Payment.dossier_id == dossier_id).order_by(Payment.id)
        return (await self.session.scalars(statement)).all()

    async def count_of_dossier(self, dossier_id: int) -> int:
        statement = select(func.count()).where(Payment.dossier_id == dossier_id)
        return await self.session.scalar(statement) or 0

    async def pending_since(self, before: datetime, *, limit: int) -> Sequence[Payment]:
        """Pending payments created before `before`, oldest first, locked for settling."""
        statement = (
            select(Payment)
            .where(Payment.status == "pending", Payment.created_at < before)
            .order_by(Payment.created_at, Payment.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(statement)).all()

    async def paid_for_ended_dossiers(
        self, statuses: Sequence[int], *, limit: int
    ) -> Sequence[tuple[Payment, Dossier]]:
        """Successful payments of dossiers stopped or refused since: to be refunded."""
        statement = (
            select(Payment, Dossier)
            .join(Dossier, Dossier.id == Payment.dossier_id)
            .where(Payment.status == PAID, Dossier.status.in_(statuses))
            .order_by(Payment.id)
            .limit(limit)
            .with_for_update(of=Payment, skip_locked=True)
        )
        return [(p, d) for p, d in await self.session.execute(statement)]
