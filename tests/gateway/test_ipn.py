"""IPN delivery: retries with backoff until the merchant answers 00 or 02, bounded."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from httpx import AsyncClient

from app.core import vnpay
from tests.gateway.conftest import NOW, GatewayFactory
from tests.gateway.support import (
    SECRET,
    Merchant,
    RecordingSleep,
    drain,
    ledger_rows,
    open_payment,
    pay_params,
)


async def _pay(client: AsyncClient) -> str:
    transaction_no = await open_payment(client, pay_params(NOW))
    response = await client.post(f"/api/simulate/{transaction_no}", json={"outcome": "success"})
    assert response.status_code == 200
    return transaction_no


async def test_retried_until_the_merchant_confirms(
    app: FastAPI, client: AsyncClient, merchant: Merchant, sleeps: RecordingSleep
) -> None:
    merchant.answer_with("99", "99", "00")
    transaction_no = await _pay(client)
    await drain(app)
    _, deliveries = await ledger_rows(app, transaction_no)
    assert [(d.attempt, d.outcome, d.rsp_code) for d in deliveries] == [
        (1, "rejected", "99"),
        (2, "rejected", "99"),
        (3, "confirmed", "00"),
    ]
    assert len(merchant.ipns) == 3
    assert all(vnpay.verify(ipn, SECRET) for ipn in merchant.ipns)
    assert sleeps.calls == [0.2, 0.4]  # the backoff, base 0.2 s doubling


async def test_already_confirmed_ends_the_delivery(
    app: FastAPI, client: AsyncClient, merchant: Merchant
) -> None:
    merchant.answer_with("02")
    transaction_no = await _pay(client)
    await drain(app)
    _, deliveries = await ledger_rows(app, transaction_no)
    assert [(d.attempt, d.outcome, d.rsp_code) for d in deliveries] == [
        (1, "already_confirmed", "02")
    ]


async def test_server_errors_and_non_json_answers_are_retried(
    app: FastAPI, client: AsyncClient, merchant: Merchant
) -> None:
    merchant.answer_with("500", "html", "00")
    transaction_no = await _pay(client)
    await drain(app)
    _, deliveries = await ledger_rows(app, transaction_no)
    assert [(d.outcome, d.http_status) for d in deliveries] == [
        ("http_error", 500),
        ("bad_response", 200),
        ("confirmed", 200),
    ]


async def test_persistent_failure_is_bounded_by_the_attempt_limit(
    make_gateway: GatewayFactory, merchant: Merchant, sleeps: RecordingSleep
) -> None:
    app, client = await make_gateway(gateway_ipn_attempts=4, gateway_ipn_backoff_seconds=1.0)
    merchant.answer_with("99")
    transaction_no = await _pay(client)
    await drain(app)
    _, deliveries = await ledger_rows(app, transaction_no)
    assert [d.attempt for d in deliveries] == [1, 2, 3, 4]
    assert {d.outcome for d in deliveries} == {"rejected"}
    assert sleeps.calls == [1.0, 2.0, 4.0]
    metrics = (await client.get("/metrics")).text
    assert 'portalsim_gateway_ipn_deliveries_total{outcome="rejected"} 4.0' in metrics


async def test_an_unreachable_merchant_is_a_network_error(
    make_gateway: GatewayFactory,
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    app, client = await make_gateway(
        ipn_transport=httpx.MockTransport(refuse), gateway_ipn_attempts=2
    )
    transaction_no = await _pay(client)
    await drain(app)
    _, deliveries = await ledger_rows(app, transaction_no)
    assert [(d.outcome, d.http_status) for d in deliveries] == [
        ("network_error", None),
        ("network_error", None),
    ]


async def test_shutdown_cancels_deliveries_in_flight(
    make_gateway: GatewayFactory, merchant: Merchant
) -> None:
    parked = asyncio.Event()

    async def park(_seconds: float) -> None:  # a late IPN that never comes due
        parked.set()
        await asyncio.Event().wait()

    app, client = await make_gateway(sleep=park)
    transaction_no = await open_payment(client, pay_params(NOW), faults="ipn_late=1:3600")
    await client.post(f"/api/simulate/{transaction_no}", json={"outcome": "success"})
    await parked.wait()
    assert app.state.ipn.in_flight == 1
    await app.state.ipn.close()
    assert app.state.ipn.in_flight == 0
    assert merchant.ipns == []
