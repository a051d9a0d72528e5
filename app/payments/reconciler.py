"""Reconciliation outside a request: the periodic task of a serving portal, and the CLI.

No transaction is open while the gateway is asked: a pass reads its candidates in a read
transaction, asks the gateway about each (querydr, refund), then settles each answer in a short
write transaction of its own that re-reads the payment locked. A slow gateway therefore holds no
row lock (PostgreSQL) and not SQLite's one writer slot, so submissions and the IPNs racing a pass
go through; an IPN that settles a payment meanwhile wins, and the pass leaves it alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

from app.payments.errors import GatewayUnavailable
from app.payments.service import WRITING_OUTCOMES, Reconciled, ledger_outcome
from app.services import Services

logger = logging.getLogger(__name__)

PASS_LIMIT = 500  # payments of each kind per pass; the rest wait for the next


async def reconcile_once(services: Services, *, limit: int = PASS_LIMIT) -> Counter[str]:
    """One pass: settle pending payments from the gateway's ledger (querydr), expire the
    abandoned, refund payments of dossiers stopped or refused since. Returns how many payments
    ended in each `Reconciled` outcome."""
    older_than = timedelta(minutes=services.settings.payment_reconcile_after_minutes)
    async with services.database.read() as session:
        payments = services.payments(session)
        pending = await payments.due_for_query(older_than=older_than, limit=limit)
        refundable = await payments.due_for_refund(limit=limit)
    report: Counter[str] = Counter()
    for payment in pending:
        try:
            view = await services.gateway.query(payment, payment.created_at)
        except GatewayUnavailable as exc:
            logger.info("querydr of %s: %s", payment.txn_ref, exc)
            _count(report, Reconciled.UNREACHABLE)
            continue
        # Most answers change nothing: only those that write take the writer's turn.
        outcome = ledger_outcome(payment, view, datetime.now(UTC))
        if outcome in WRITING_OUTCOMES:
            async with services.database.write() as session:
                outcome = await services.payments(session).settle_from_ledger(payment.txn_ref, view)
        _count(report, outcome)
    for payment in refundable:
        try:
            view = await services.gateway.refund(payment, payment.created_at)
        except GatewayUnavailable as exc:
            logger.info("refund of %s: %s", payment.txn_ref, exc)
            _count(report, Reconciled.UNREACHABLE)
            continue
        if not view.found:
            # Refunded already (another worker's pass, or one whose commit was lost), or
            # refused: the ledger keeps its word, the portal's record stays as it is.
            logger.warning("refund of %s refused: %s", payment.txn_ref, view.response_code)
            _count(report, Reconciled.REFUND_REFUSED)
            continue
        async with services.database.write() as session:
            _count(report, await services.payments(session).record_refund(payment.txn_ref))
    return report


def _count(report: Counter[str], outcome: Reconciled) -> None:
    report[outcome.value] += 1  # plain keys: the report is printed, logged and compared


def start_reconciler(services: Services) -> asyncio.Task[None] | None:
    """The serving portal's periodic pass, every PAYMENT_RECONCILE_INTERVAL_SECONDS (none at 0).
    A failed pass is logged and the next one runs on time; cancelling the task stops it, a pass
    under way included (its settled payments are committed, the others wait for the next)."""
    interval = services.settings.payment_reconcile_interval_seconds
    if interval <= 0:
        return None

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                report = await reconcile_once(services)
            except Exception:
                logger.exception("reconciliation pass failed")
            else:
                if report:
                    logger.info("reconciliation: %s", dict(report))

    return asyncio.create_task(loop(), name="payments-reconciler")
