"""Paying a dossier's fees: the portal and the mock gateway, each its own app, talking to each
other in process (tests/payments/support.py)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from app.core import vnpay
from app.core.config import Settings
from app.gateway.models import Delivery
from app.gateway.repository import GatewayRepository
from app.payments.models import Payment, PaymentStatus, SettledBy
from app.payments.reconciler import reconcile_once
from app.payments.repository import PaymentRepository
from tests.gateway.support import RecordingSleep
from tests.payments.support import paired
from tests.support.clock import ManualClock
from tests.support.factories import (
    Citizen,
    agency_headers,
    assert_error,
    dossier_with_fees_due,
    login,
)

PAY_PATH = "/api/v1/dossiers/{code}/payments"
IPN_PATH = "/api/v1/payments/vnpay/ipn"
SUCCESS_CARD = "9704198526191432198"


@dataclass
class Payer:
    """A citizen with a dossier whose fees are requested, and the apps around them."""

    portal: AsyncClient
    gateway: AsyncClient
    gateway_app: FastAPI
    portal_app: FastAPI
    settings: Settings
    citizen: Citizen
    code: str
    agency: str
    fees: int

    async def pay_url(self, **headers: str) -> dict[str, Any]:
        response = await self.portal.post(
            PAY_PATH.format(code=self.code), headers=self.citizen.headers | headers
        )
        assert response.status_code in (200, 201), response.text
        body: dict[str, Any] = response.json()
        return body

    async def pay(self, payment: dict[str, Any], faults: str = "", **choice: str) -> str:
        """Open the pay URL on the gateway and settle it as the payer would; returns the
        gateway's transaction number. IPNs are delivered before this returns."""
        url = urlsplit(payment["pay_url"])
        headers = {"X-Gateway-Faults": faults} if faults else {}
        page = await self.gateway.get(f"{url.path}?{url.query}", headers=headers)
        assert page.status_code == 200, page.text
        number = page.headers["X-Transaction-No"]
        result = await self.gateway.post(f"/api/simulate/{number}", json=choice)
        assert result.status_code == 200, result.text
        await self.gateway_app.state.ipn.drain()
        return number

    async def dossier(self) -> dict[str, Any]:
        response = await self.portal.get(
            f"/api/v1/dossiers/{self.code}", headers=self.citizen.headers
        )
        body: dict[str, Any] = response.json()
        return body

    async def payments(self) -> list[dict[str, Any]]:
        response = await self.portal.get(
            PAY_PATH.format(code=self.code), headers=self.citizen.headers
        )
        body: list[dict[str, Any]] = response.json()
        return body

    async def reconcile(self) -> Counter[str]:
        return await reconcile_once(self.portal_app.state.services)


@pytest.fixture
async def payer(settings: Settings, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Payer]:
    async with paired(
        settings,
        clock,
        tmp_path,
        sleep=RecordingSleep(),
        payment_reconcile_after_minutes=0,  # every pending payment is asked about at once
        payment_reconcile_interval_seconds=0,  # and only when a test says so
    ) as apps:
        citizen, dossier, procedure, agency = await dossier_with_fees_due(apps.portal, settings)
        yield Payer(
            portal=apps.portal,
            gateway=apps.gateway,
            gateway_app=apps.gateway_app,
            portal_app=apps.portal_app,
            settings=apps.settings,
            citizen=citizen,
            code=dossier["code"],
            agency=agency["code"],
            fees=sum(fee["amount"] for fee in procedure["fees"]),
        )


def signed_ipn(settings: Settings, txn_ref: str, amount: int, code: str = "00") -> dict[str, str]:
    params = {
        "vnp_Amount": str(amount * 100),
        "vnp_BankCode": "NCB",
        "vnp_OrderInfo": "x",
        "vnp_PayDate": vnpay.format_date(datetime.now(UTC)),
        "vnp_ResponseCode": code,
        "vnp_TmnCode": settings.vnpay_tmn_code,
        "vnp_TransactionNo": "14000001",
        "vnp_TransactionStatus": "00" if code == "00" else "02",
        "vnp_TxnRef": txn_ref,
    }
    return params | {"vnp_SecureHash": vnpay.sign(params, settings.vnpay_hash_secret)}


async def test_a_whole_payment_is_confirmed_once_and_moves_the_dossier_on(payer: Payer) -> None:
    payment = await payer.pay_url()
    assert payment["amount"] == payer.fees
    assert payment["status"] == "pending"
    query = dict(parse_qsl(urlsplit(payment["pay_url"]).query))
    assert query["vnp_Amount"] == str(payer.fees * 100)
    assert vnpay.verify(query, payer.settings.vnpay_hash_secret)

    await payer.pay(payment, card=SUCCESS_CARD)

    (settled,) = await payer.payments()
    assert settled["status"] == "success"
    assert settled["settled_by"] == "ipn"
    dossier = await payer.dossier()
    assert dossier["status"] == 4
    assert dossier["paid_online"] == 1
    events = await payer.portal.get(
        f"/api/v1/dossiers/{payer.code}/events", headers=payer.citizen.headers
    )
    assert [(e["from_status"], e["to_status"], e["actor"]) for e in events.json()][-1] == (
        6,
        4,
        "vnpay",
    )


async def test_the_ipn_refuses_forgeries_with_the_contracts_codes(payer: Payer) -> None:
    payment = await payer.pay_url()
    genuine = signed_ipn(payer.settings, payment["txn_ref"], payer.fees)

    forged = await payer.portal.get(IPN_PATH, params=genuine | {"vnp_Amount": "100"})
    assert forged.json()["RspCode"] == "97"
    tampered = await payer.portal.get(
        IPN_PATH, params=signed_ipn(payer.settings, payment["txn_ref"], payer.fees + 1)
    )
    assert tampered.json()["RspCode"] == "04"
    unknown = await payer.portal.get(
        IPN_PATH, params=signed_ipn(payer.settings, "NO-SUCH-REF", 1000)
    )
    assert unknown.json()["RspCode"] == "01"
    malformed = await payer.portal.get(IPN_PATH, params={"vnp_TxnRef": "x"})
    assert malformed.json()["RspCode"] == "97"
    assert (await payer.payments())[0]["status"] == "pending"
    assert (await payer.dossier())["status"] == 6

    first = await payer.portal.get(IPN_PATH, params=genuine)
    again = await payer.portal.get(IPN_PATH, params=genuine)
    assert (first.json()["RspCode"], again.json()["RspCode"]) == ("00", "02")


async def test_a_non_ascii_signature_is_refused_in_the_contracts_shape(payer: Payer) -> None:
    payment = await payer.pay_url()
    params = signed_ipn(payer.settings, payment["txn_ref"], payer.fees)
    for hash_ in ("é", "é" * 128, "\u0661" * 128):
        forged = params | {"vnp_SecureHash": hash_}

        ipn = await payer.portal.get(IPN_PATH, params=forged)
        shown = await payer.portal.get("/api/v1/payments/vnpay/return", params=forged)

        assert ipn.status_code == 200
        assert ipn.json() == {"RspCode": "97", "Message": "Invalid signature"}
        assert shown.status_code == 200
        assert shown.json()["verified"] is False
        assert shown.json()["message"] == "Sai chữ ký"
    assert (await payer.payments())[0]["status"] == "pending"


async def test_concurrent_duplicate_ipns_confirm_once(payer: Payer) -> None:
    payment = await payer.pay_url()
    ipn = signed_ipn(payer.settings, payment["txn_ref"], payer.fees)

    answers = await asyncio.gather(*(payer.portal.get(IPN_PATH, params=ipn) for _ in range(20)))

    assert Counter(a.json()["RspCode"] for a in answers) == {"00": 1, "02": 19}
    events = await payer.portal.get(
        f"/api/v1/dossiers/{payer.code}/events", headers=payer.citizen.headers
    )
    assert [e["to_status"] for e in events.json()].count(4) == 2  # 2->4, then 6->4 once


async def test_a_declined_payment_leaves_the_fees_due_and_can_be_retried(payer: Payer) -> None:
    first = await payer.pay_url()
    await payer.pay(first, outcome="51")
    assert (await payer.payments())[0]["status"] == "failed"
    assert (await payer.dossier())["status"] == 6

    second = await payer.pay_url()
    assert second["txn_ref"] != first["txn_ref"]
    await payer.pay(second, outcome="cancel")
    assert [p["status"] for p in await payer.payments()] == ["failed", "cancelled"]


async def test_a_lost_ipn_is_settled_by_reconciliation(payer: Payer) -> None:
    payment = await payer.pay_url()
    await payer.pay(payment, faults="ipn_never=1", card=SUCCESS_CARD)
    assert (await payer.payments())[0]["status"] == "pending"

    report = await payer.reconcile()

    assert report["confirmed"] == 1
    (settled,) = await payer.payments()
    assert (settled["status"], settled["settled_by"]) == ("success", "reconciliation")
    assert (await payer.dossier())["status"] == 4
    # The IPN, should it come after all, finds the payment confirmed.
    late = signed_ipn(payer.settings, payment["txn_ref"], payer.fees)
    assert (await payer.portal.get(IPN_PATH, params=late)).json()["RspCode"] == "02"


async def test_an_abandoned_payment_expires(payer: Payer) -> None:
    payment = await payer.pay_url()
    await payer.pay(payment, outcome="abandon")
    async with payer.portal_app.state.database.write() as session:
        await session.execute(
            update(Payment)
            .where(Payment.txn_ref == payment["txn_ref"])
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )

    assert (await payer.reconcile())["expired"] == 1
    assert (await payer.payments())[0]["status"] == "expired"
    assert (await payer.pay_url())["status"] == "pending"  # a new attempt may start


async def test_a_paid_dossier_that_is_stopped_is_refunded(payer: Payer) -> None:
    payment = await payer.pay_url()
    await payer.pay(payment, card=SUCCESS_CARD)
    stopped = await payer.portal.post(
        f"/api/v1/agency/dossiers/{payer.code}/transitions",
        json={"to_status": 8},
        headers=agency_headers(payer.settings, payer.agency),
    )
    assert stopped.status_code == 200

    assert (await payer.reconcile())["refunded"] == 1
    (refunded,) = await payer.payments()
    assert refunded["status"] == "refunded"
    assert (await payer.dossier())["paid_online"] == 0
    assert (await payer.reconcile())["refunded"] == 0


async def test_the_return_url_shows_the_outcome_and_confirms_nothing(payer: Payer) -> None:
    payment = await payer.pay_url()
    number = await payer.pay(payment, faults="ipn_never=1", card=SUCCESS_CARD)
    ledger = await payer.gateway.post(f"/api/simulate/{number}", json={"card": SUCCESS_CARD})
    assert ledger.status_code == 409  # paid already; the signed return URL came with the first
    params = signed_ipn(payer.settings, payment["txn_ref"], payer.fees)

    shown = await payer.portal.get("/api/v1/payments/vnpay/return", params=params)

    assert shown.json()["verified"] is True
    assert shown.json()["status"] == "pending"
    assert (await payer.dossier())["status"] == 6


async def test_payments_are_refused_when_no_fee_is_due(payer: Payer) -> None:
    payment = await payer.pay_url(**{"Idempotency-Key": "k1"})
    replay = await payer.pay_url(**{"Idempotency-Key": "k1"})
    assert replay["txn_ref"] == payment["txn_ref"]
    in_progress = await payer.portal.post(
        PAY_PATH.format(code=payer.code), headers=payer.citizen.headers
    )
    assert_error(in_progress, 409, "payment_in_progress")

    await payer.pay(payment, card=SUCCESS_CARD)
    paid = await payer.portal.post(PAY_PATH.format(code=payer.code), headers=payer.citizen.headers)
    assert_error(paid, 409, "not_allowed_in_status")  # the dossier moved on to 4

    stranger = await login(payer.portal)
    other = await payer.portal.post(PAY_PATH.format(code=payer.code), headers=stranger.headers)
    assert_error(other, 404, "dossier_not_found")


async def test_statuses_are_read_back_as_their_enums(payer: Payer) -> None:
    payment = await payer.pay_url()
    number = await payer.pay(payment, card=SUCCESS_CARD)

    async with payer.portal_app.state.database.read() as session:
        row = await PaymentRepository(session).by_txn_ref(payment["txn_ref"])
    assert row is not None
    assert (row.status, row.settled_by) == (PaymentStatus.PAID, SettledBy.IPN)
    assert type(row.status) is PaymentStatus
    assert type(row.settled_by) is SettledBy
    async with payer.gateway_app.state.database.read() as session:
        ledger = GatewayRepository(session)
        transaction = await ledger.by_transaction_no(number)
        assert transaction is not None
        deliveries = await ledger.deliveries(transaction.id)
    assert type(transaction.status) is vnpay.TransactionStatus
    assert [type(d.outcome) for d in deliveries] == [Delivery]
    schema = payer.portal_app.openapi()["components"]["schemas"]
    assert schema["PaymentStatus"]["enum"] == [s.value for s in PaymentStatus]


async def test_passes_at_once_confirm_once_and_refund_once(payer: Payer) -> None:
    """Two workers' reconcilers may overlap: neither holds locks across the gateway's calls,
    so each payment's short transaction re-checks it, and the gateway refuses a second refund."""
    payment = await payer.pay_url()
    number = await payer.pay(payment, faults="ipn_never=1", card=SUCCESS_CARD)

    confirming = await asyncio.gather(*(payer.reconcile() for _ in range(3)))

    assert sum(confirming, Counter())["confirmed"] == 1
    events = await payer.portal.get(
        f"/api/v1/dossiers/{payer.code}/events", headers=payer.citizen.headers
    )
    assert [(e["from_status"], e["to_status"]) for e in events.json() if e["actor"] == "vnpay"] == [
        (6, 4)
    ]
    stopped = await payer.portal.post(
        f"/api/v1/agency/dossiers/{payer.code}/transitions",
        json={"to_status": 8},
        headers=agency_headers(payer.settings, payer.agency),
    )
    assert stopped.status_code == 200

    refunding = await asyncio.gather(*(payer.reconcile() for _ in range(3)))

    assert sum(refunding, Counter())["refunded"] == 1
    assert (await payer.payments())[0]["status"] == "refunded"
    async with payer.gateway_app.state.database.read() as session:
        transaction = await GatewayRepository(session).by_transaction_no(number)
    assert transaction is not None
    assert transaction.refunded_amount == transaction.amount  # once, in full
