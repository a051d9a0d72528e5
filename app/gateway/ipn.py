"""Delivering IPNs: background asyncio tasks owned by the app, retried with backoff, each attempt
recorded in the ledger."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from app.core import vnpay
from app.core.clock import Clock
from app.core.db import Database
from app.gateway.metrics import GatewayMetrics
from app.gateway.models import Delivery, GatewayIpnDelivery
from app.gateway.repository import GatewayRepository

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


FINAL = {
    vnpay.IPN_CONFIRMED: Delivery.CONFIRMED,
    vnpay.IPN_ALREADY_CONFIRMED: Delivery.ALREADY_CONFIRMED,
}


class IpnDispatcher:
    def __init__(
        self,
        *,
        url: str,
        secret: str,
        database: Database,
        client: httpx.AsyncClient,
        clock: Clock,
        metrics: GatewayMetrics,
        sleep: Sleep,
        attempts: int,
        backoff_seconds: float,
    ) -> None:
        self.url = url
        self.secret = secret
        self.database = database
        self.client = client
        self.clock = clock
        self.metrics = metrics
        self.sleep = sleep
        self.attempts = max(1, attempts)
        self.backoff_seconds = backoff_seconds
        self._tasks: set[asyncio.Task[Delivery]] = set()

    def start(
        self, transaction_id: int, params: Mapping[str, str], *, delay: float, copies: int
    ) -> list[asyncio.Task[Delivery]]:
        """Deliver `params` (unsigned) `copies` times concurrently, each after `delay` seconds."""
        query = vnpay.signed_query(params, self.secret)
        tasks = []
        for copy in range(1, copies + 1):
            task = asyncio.create_task(
                self._deliver(transaction_id, query, copy=copy, delay=delay),
                name=f"ipn-{transaction_id}-{copy}",
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            tasks.append(task)
        return tasks

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait for every delivery in flight (tests, and a graceful stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Cancel what is still in flight and wait for it to finish."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _deliver(
        self, transaction_id: int, query: str, *, copy: int, delay: float
    ) -> Delivery:
        if delay > 0:
            await self.sleep(delay)
        separator = "&" if "?" in self.url else "?"
        url = f"{self.url}{separator}{query}"
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                await self.sleep(self.backoff_seconds * 2 ** (attempt - 2))
            outcome, rsp_code, status = await self._attempt(url)
            self.metrics.ipn_deliveries.labels(outcome).inc()
            await self._record(transaction_id, copy, attempt, outcome, rsp_code, status)
            if outcome in (Delivery.CONFIRMED, Delivery.ALREADY_CONFIRMED):
                return outcome
        logger.warning("IPN of transaction %s (copy %s) gave up", transaction_id, copy)
        return Delivery.GAVE_UP

    async def _attempt(self, url: str) -> tuple[Delivery, str | None, int | None]:
        try:
            response = await self.client.get(url)
        except httpx.HTTPError as exc:
            logger.info("IPN delivery failed: %s", type(exc).__name__)
            return Delivery.NETWORK_ERROR, None, None
        if response.status_code != 200:
            return Delivery.HTTP_ERROR, None, response.status_code
        try:
            body: Any = response.json()
        except ValueError:
            return Delivery.BAD_RESPONSE, None, response.status_code
        rsp_code = body.get("RspCode") if isinstance(body, dict) else None
        if not isinstance(rsp_code, str):
            return Delivery.BAD_RESPONSE, None, response.status_code
        return FINAL.get(rsp_code, Delivery.REJECTED), rsp_code[:10], response.status_code

    async def _record(
        self,
        transaction_id: int,
        copy: int,
        attempt: int,
        outcome: Delivery,
        rsp_code: str | None,
        status: int | None,
    ) -> None:
        try:
            async with self.database.write() as session:
                await GatewayRepository(session).add_delivery(
                    GatewayIpnDelivery(
                        transaction_id=transaction_id,
                        copy=copy,
                        attempt=attempt,
                        at=self.clock.now(),
                        outcome=outcome,
                        rsp_code=rsp_code,
                        http_status=status,
                    )
                )
        except Exception:  # the ledger's bookkeeping must not stop the delivery
            logger.exception("could not record IPN attempt of transaction %s", transaction_id)
