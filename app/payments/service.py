"""Online payment of a dossier's fees through the VNPay contract.

A payment is confirmed exactly once, by whichever comes first of the gateway's IPN and the
portal's reconciliation (`querydr`); the return URL only shows the outcome. Payment instants use
the wall clock, not the portal's virtual clock: the gateway and the payer live in real time.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Generic

from app.accounts.models import Account
from app.catalogue.repository import CatalogueRepository
from app.core import vnpay
from app.core.config import Settings
from app.core.db import SessionT, WriteSession
from app.dossiers.errors import NotAllowedNow
from app.dossiers.kinds import ActorKind
from app.dossiers.repository import DossierRow
from app.dossiers.service import Actor, DossierService
from app.dossiers.states import Status
from app.payments.errors import AlreadyPaid, NoFeesDue, PaymentInProgress
from app.payments.gateway_client import GatewayView
from app.payments.models import Payment, PaymentStatus, SettledBy
from app.payments.repository import PaymentRepository

logger = logging.getLogger(__name__)

CANCELLED_BY_PAYER = "24"
ENDED_UNPAID = (Status.STOPPED, Status.REFUSED_AT_INTAKE)
RETURN_PATH = "/api/v1/payments/vnpay/return"
PAY_PATH = "/paymentv2/vpcpay.html"
GATEWAY = Actor(ActorKind.SYSTEM, "vnpay")


class Reconciled(StrEnum):
    """What reconciliation found for one payment: the keys of its report."""

    CONFIRMED = "confirmed"  # paid at the gateway, the IPN never came: settled here
    FAILED = "failed"  # failed at the gateway, the IPN never came
    EXPIRED = "expired"  # unknown to the gateway or unfinished there, and past its expiry
    STILL_PENDING = "still_pending"  # unknown or unfinished, not yet expired
    AMOUNT_MISMATCH = "amount_mismatch"  # the gateway holds another amount: left for a human
    ALREADY_SETTLED = "already_settled"  # settled meanwhile (an IPN, another pass): untouched
    REFUNDED = "refunded"  # of a dossier stopped or refused since
    REFUND_REFUSED = "refund_refused"  # the gateway said no (e.g. refunded already)
    UNREACHABLE = "unreachable"  # no trustworthy answer: asked again on the next pass


class PaymentService(Generic[SessionT]):
    def __init__(
        self,
        repository: PaymentRepository[SessionT],
        dossiers: DossierService[SessionT],
        catalogue: CatalogueRepository[SessionT],
        settings: Settings,
    ) -> None:
        self.repository = repository
        self.dossiers = dossiers
        self.catalogue = catalogue
        self.settings = settings

    # -- the payer ---------------------------------------------------------------------------

    async def create(
        self: PaymentService[WriteSession],
        owner: Account,
        code: str,
        idempotency_key: str | None,
        client_ip: str,
    ) -> tuple[Payment, bool]:
        """A payment of the dossier's fees and its signed pay URL; with an Idempotency-Key,
        the same key gives back the same payment."""
        dossier = await self.dossiers.for_owner(owner.id, code, for_update=True)
        if idempotency_key:
            existing = await self.repository.by_key(dossier.id, idempotency_key)
            if existing is not None:
                return existing, False
        if dossier.status != Status.FEES_REQUESTED:
            raise NotAllowedNow(
                f"fees are paid when requested (status 6), not in status {dossier.status}",
                field="status",
                status=dossier.status,
            )
        amount = await self._fees(dossier)
        now = datetime.now(UTC)
        attempts = await self.repository.of_dossier(dossier.id)
        for earlier in attempts:
            if earlier.status == PaymentStatus.PAID:
                raise AlreadyPaid(f"{code} is paid ({earlier.txn_ref})", txn_ref=earlier.txn_ref)
            if earlier.status == PaymentStatus.PENDING and earlier.expires_at > now:
                raise PaymentInProgress(
                    f"{earlier.txn_ref} is waiting for the payer until it expires",
                    txn_ref=earlier.txn_ref,
                )
        txn_ref = f"{dossier.code}-{len(attempts) + 1}"
        expires_at = now + timedelta(minutes=self.settings.payment_expiry_minutes)
        payment = Payment(
            dossier_id=dossier.id,
            txn_ref=txn_ref,
            amount=amount,
            status=PaymentStatus.PENDING,
            pay_url=self._pay_url(txn_ref, amount, dossier.code, client_ip, now, expires_at),
            idempotency_key=idempotency_key,
            request_hash=hashlib.sha256(dossier.code.encode()).hexdigest(),
            created_at=now,
            expires_at=expires_at,
        )
        await self.repository.add(payment)
        return payment, True

    async def of_dossier(self, owner_id: int, code: str) -> list[Payment]:
        dossier = await self.dossiers.for_owner(owner_id, code)
        return list(await self.repository.of_dossier(dossier.id))

    async def _fees(self, dossier: DossierRow) -> int:
        procedures = await self.catalogue.procedures_by_code([dossier.procedure_code])
        fees = procedures[dossier.procedure_code].fees
        amount = sum(int(line["amount"]) for line in fees)
        if amount <= 0:
            raise NoFeesDue(f"procedure {dossier.procedure_code} charges no fee", field="code")
        return amount

    def _pay_url(
        self,
        txn_ref: str,
        amount: int,
        code: str,
        client_ip: str,
        now: datetime,
        expires_at: datetime,
    ) -> str:
        params = {
            "vnp_Version": vnpay.VERSION,
            "vnp_Command": "pay",
            "vnp_TmnCode": self.settings.vnpay_tmn_code,
            "vnp_Amount": amount * 100,
            "vnp_CurrCode": "VND",
            "vnp_TxnRef": txn_ref,
            "vnp_OrderInfo": f"Thanh toan phi le phi ho so {code}",
            "vnp_OrderType": "other",
            "vnp_Locale": "vn",
            "vnp_ReturnUrl": self.settings.public_url.rstrip("/") + RETURN_PATH,
            "vnp_IpAddr": client_ip,
            "vnp_CreateDate": vnpay.format_date(now),
            "vnp_ExpireDate": vnpay.format_date(expires_at),
        }
        query = vnpay.signed_query(params, self.settings.vnpay_hash_secret)
        return f"{self.settings.vnpay_gateway_url.rstrip('/')}{PAY_PATH}?{query}"

    # -- the gateway's calls -----------------------------------------------------------------

    async def ipn(self: PaymentService[WriteSession], params: Mapping[str, str]) -> dict[str, str]:
        """The gateway's server-to-server notification, answered in the contract's shape."""
        if not vnpay.verify(params, self.settings.vnpay_hash_secret):
            logger.warning("IPN refused: bad signature for %s", params.get("vnp_TxnRef"))
            return _rsp(vnpay.IPN_BAD_SIGNATURE, "Invalid signature")
        payment = await self.repository.by_txn_ref(
            str(params.get("vnp_TxnRef", "")), for_update=True
        )
        if payment is None:
            logger.warning("IPN refused: unknown order %s", params.get("vnp_TxnRef"))
            return _rsp(vnpay.IPN_ORDER_NOT_FOUND, "Order not found")
        if str(params.get("vnp_Amount")) != str(payment.amount * 100):
            logger.warning(
                "IPN refused: amount %s for %s", params.get("vnp_Amount"), payment.txn_ref
            )
            return _rsp(vnpay.IPN_INVALID_AMOUNT, "Invalid amount")
        paid = (
            params.get("vnp_ResponseCode") == "00"
            and params.get("vnp_TransactionStatus") == vnpay.TransactionStatus.SUCCESS
        )
        if not await self._settle(payment, paid, params, by=SettledBy.IPN):
            return _rsp(vnpay.IPN_ALREADY_CONFIRMED, "Order already confirmed")
        return _rsp(vnpay.IPN_CONFIRMED, "Confirm Success")

    async def returned(self, params: Mapping[str, str]) -> dict[str, Any]:
        """What the payer's browser brings back: shown, never acted upon (the IPN or
        reconciliation confirms)."""
        verified = vnpay.verify(params, self.settings.vnpay_hash_secret)
        payment = await self.repository.by_txn_ref(str(params.get("vnp_TxnRef", "")))
        code = str(params.get("vnp_ResponseCode", ""))
        return {
            "verified": verified,
            "txn_ref": payment.txn_ref if payment else None,
            "status": payment.status if payment else None,
            "gateway_response_code": code if verified else None,
            "message": vnpay.PAYMENT_RESPONSES.get(code, "") if verified else "Sai chữ ký",
        }

    async def _settle(
        self: PaymentService[WriteSession],
        payment: Payment,
        paid: bool,
        facts: Mapping[str, Any],
        *,
        by: SettledBy,
    ) -> bool:
        """Record the gateway's outcome once; returns False if it was recorded already."""
        if payment.status == PaymentStatus.PAID or (payment.settled_at is not None and not paid):
            return False
        payment.status = (
            PaymentStatus.PAID if paid else _failure(str(facts.get("vnp_ResponseCode", "")))
        )
        payment.settled_at = datetime.now(UTC)
        payment.settled_by = by
        payment.response_code = str(facts.get("vnp_ResponseCode") or "") or None
        payment.transaction_no = str(facts.get("vnp_TransactionNo") or "") or None
        payment.bank_code = str(facts.get("vnp_BankCode") or "") or None
        if paid:
            dossiers = self.dossiers.repository
            dossier = await dossiers.row_by_id(payment.dossier_id, for_update=True)
            # DuocThanhToanTrucTuyen: paid on the national portal.
            if dossier.status == Status.FEES_REQUESTED:
                await self.dossiers.transition(
                    dossier, Status.PROCESSING, GATEWAY, payment.txn_ref, paid_online=1
                )
            else:
                await dossiers.update(dossier.id, {"paid_online": 1})
        await self.repository.session.flush()
        return True

    # -- reconciliation ----------------------------------------------------------------------
    # The reconciler (app/payments/reconciler.py) asks the gateway between these calls, outside
    # any transaction: the reads below run in a read transaction, each settle in a short write
    # transaction of its own, which re-reads the payment locked and re-checks it there.

    async def due_for_query(self, *, older_than: timedelta, limit: int) -> list[Payment]:
        """Pending payments older than `older_than`, oldest first: to be asked about."""
        before = datetime.now(UTC) - older_than
        return list(await self.repository.pending_since(before, limit=limit))

    async def due_for_refund(self, *, limit: int) -> list[Payment]:
        """Successful payments of dossiers stopped or refused since: to be refunded."""
        return list(
            await self.repository.paid_for_ended_dossiers(
                [int(s) for s in ENDED_UNPAID], limit=limit
            )
        )

    async def settle_from_ledger(
        self: PaymentService[WriteSession], txn_ref: str, view: GatewayView
    ) -> Reconciled:
        """Record what the gateway's querydr said of a payment, unless it is settled already."""
        payment = await self.repository.by_txn_ref(txn_ref, for_update=True)
        if payment is None or payment.status != PaymentStatus.PENDING:
            return Reconciled.ALREADY_SETTLED
        now = datetime.now(UTC)
        outcome = ledger_outcome(payment, view, now)
        if outcome is Reconciled.EXPIRED:
            payment.status, payment.settled_at = PaymentStatus.EXPIRED, now
            payment.settled_by = SettledBy.EXPIRY
        elif outcome in (Reconciled.CONFIRMED, Reconciled.FAILED):
            paid = outcome is Reconciled.CONFIRMED
            facts = {
                "vnp_ResponseCode": "00" if paid else "99",
                "vnp_TransactionNo": view.transaction_no,
                "vnp_BankCode": view.bank_code,
            }
            await self._settle(payment, paid, facts, by=SettledBy.RECONCILIATION)
        await self.repository.session.flush()
        return outcome

    async def record_refund(self: PaymentService[WriteSession], txn_ref: str) -> Reconciled:
        """Record a refund the gateway accepted, unless it is recorded already."""
        payment = await self.repository.by_txn_ref(txn_ref, for_update=True)
        if payment is None or payment.status != PaymentStatus.PAID:
            return Reconciled.ALREADY_SETTLED
        payment.status, payment.refunded_at = PaymentStatus.REFUNDED, datetime.now(UTC)
        await self.dossiers.repository.update(payment.dossier_id, {"paid_online": 0})
        await self.repository.session.flush()
        return Reconciled.REFUNDED


def ledger_outcome(payment: Payment, view: GatewayView, now: datetime) -> Reconciled:
    """What a querydr answer means for a pending payment (pure): the reconciler opens a write
    transaction only for the outcomes that write."""
    if not view.found or view.transaction_status == vnpay.TransactionStatus.INCOMPLETE:
        return Reconciled.EXPIRED if payment.expires_at <= now else Reconciled.STILL_PENDING
    if view.amount is not None and view.amount != payment.amount:
        return Reconciled.AMOUNT_MISMATCH
    if view.transaction_status == vnpay.TransactionStatus.SUCCESS:
        return Reconciled.CONFIRMED
    return Reconciled.FAILED


WRITING_OUTCOMES = frozenset({Reconciled.CONFIRMED, Reconciled.FAILED, Reconciled.EXPIRED})


def _failure(response_code: str) -> PaymentStatus:
    return PaymentStatus.CANCELLED if response_code == CANCELLED_BY_PAYER else PaymentStatus.FAILED


def _rsp(code: str, message: str) -> dict[str, str]:
    return {"RspCode": code, "Message": message}
