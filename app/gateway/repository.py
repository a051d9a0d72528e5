"""All of the gateway's SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.db import SessionT, WriteSession
from app.gateway.models import GatewayApiRequest, GatewayIpnDelivery, GatewayTransaction

TRANSACTION_NO_BASE = 14_000_000  # gateway numbers look like VNPay's 8-digit ones


class GatewayRepository(Generic[SessionT]):
    def __init__(self, session: SessionT) -> None:
        self.session: SessionT = session

    async def find(self, tmn_code: str, txn_ref: str, create_day: str) -> GatewayTransaction | None:
        return await self.session.scalar(
            select(GatewayTransaction).where(
                GatewayTransaction.tmn_code == tmn_code,
                GatewayTransaction.txn_ref == txn_ref,
                GatewayTransaction.create_day == create_day,
            )
        )

    async def by_transaction_no(
        self, transaction_no: str, *, for_update: bool = False
    ) -> GatewayTransaction | None:
        query = select(GatewayTransaction).where(
            GatewayTransaction.transaction_no == transaction_no
        )
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def by_id(self, transaction_id: int) -> GatewayTransaction | None:
        return await self.session.get(GatewayTransaction, transaction_id)

    async def add_transaction(
        self: GatewayRepository[WriteSession], transaction: GatewayTransaction
    ) -> bool:
        """Insert and number it; False when (merchant, TxnRef, day) already exists."""
        try:
            async with self.session.begin_nested():
                self.session.add(transaction)
                await self.session.flush()
        except IntegrityError:
            return False
        transaction.transaction_no = str(TRANSACTION_NO_BASE + transaction.id)
        await self.session.flush()
        return True

    async def lock(
        self: GatewayRepository[WriteSession], transaction: GatewayTransaction
    ) -> GatewayTransaction:
        """Re-read with a row lock (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises)."""
        await self.session.refresh(transaction, with_for_update=True)
        return transaction

    async def add_request(
        self: GatewayRepository[WriteSession], request: GatewayApiRequest
    ) -> bool:
        """Record a merchant-API request id; False if the merchant used it already that day."""
        try:
            async with self.session.begin_nested():
                self.session.add(request)
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def add_delivery(
        self: GatewayRepository[WriteSession], delivery: GatewayIpnDelivery
    ) -> None:
        self.session.add(delivery)
        await self.session.flush()

    async def deliveries(self, transaction_id: int) -> Sequence[GatewayIpnDelivery]:
        result = await self.session.scalars(
            select(GatewayIpnDelivery)
            .where(GatewayIpnDelivery.transaction_id == transaction_id)
            .order_by(GatewayIpnDelivery.id)
        )
        return result.all()

    async def count_transactions(self) -> int:
        return await self.session.scalar(select(func.count(GatewayTransaction.id))) or 0
