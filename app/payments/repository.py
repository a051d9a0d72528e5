"""All SQL of payments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Generic

from sqlalchemy import func, select

from app.core.db import SessionT, WriteSession
from app.dossiers.models import Dossier
from app.payments.models import Payment, PaymentStatus


class PaymentRepository(Generic[SessionT]):
    def __init__(self, session: SessionT) -> None:
        self.session: SessionT = session

    async def add(self: PaymentRepository[WriteSession], payment: Payment) -> None:
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

    # The two reads of reconciliation take no lock: the reconciler asks the gateway about what
    # they return outside any transaction, then settles each payment re-read `for_update`.

    async def pending_since(self, before: datetime, *, limit: int) -> Sequence[Payment]:
        """Pending payments created before `before`, oldest first."""
        statement = (
            select(Payment)
            .where(Payment.status == PaymentStatus.PENDING, Payment.created_at < before)
            .order_by(Payment.created_at, Payment.id)
            .limit(limit)
        )
        return (await self.session.scalars(statement)).all()

    async def paid_for_ended_dossiers(
        self, statuses: Sequence[int], *, limit: int
    ) -> Sequence[Payment]:
        """Successful payments of dossiers in one of `statuses`."""
        statement = (
            select(Payment)
            .join(Dossier, Dossier.id == Payment.dossier_id)
            .where(Payment.status == PaymentStatus.PAID, Dossier.status.in_(statuses))
            .order_by(Payment.id)
            .limit(limit)
        )
        return (await self.session.scalars(statement)).all()
