"""The pay URL: validation, signature, expiry, repeated TxnRef."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from app.gateway.cards import TEST_CARDS
from tests.gateway.conftest import NOW
from tests.gateway.support import (
    PAY_URL,
    ledger_rows,
    open_payment,
    pay_params,
    signed,
    transaction_count,
)


def _code(page: str) -> str:
    start = page.index('<strong id="code">') + len('<strong id="code">')
    return page[start : start + 2]


async def test_a_signed_pay_url_shows_the_payment_page_with_the_test_cards(
    app: FastAPI, client: AsyncClient
) -> None:
    params = pay_params(NOW)
    response = await client.get(PAY_URL, params=signed(params))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for card in TEST_CARDS:
        assert card.number in response.text
    assert "50.000 ₫" in response.text
    transaction_no = response.headers["X-Transaction-No"]
    assert f'action="/paymentv2/pay/{transaction_no}"' in response.text
    transaction, _ = await ledger_rows(app, transaction_no)
    assert transaction.status == "01"
    assert transaction.amount == 5_000_000
    assert transaction.txn_ref == params["vnp_TxnRef"]
    assert transaction.faults == {}


async def test_a_forged_signature_is_refused_with_97_and_nothing_stored(
    app: FastAPI, client: AsyncClient
) -> None:
    response = await client.get(PAY_URL, params=signed(pay_params(NOW), secret="not-the-secret"))
    assert response.status_code == 400
    assert _code(response.text) == "97"
    assert await transaction_count(app) == 0


async def test_a_tampered_amount_is_refused_with_97(app: FastAPI, client: AsyncClient) -> None:
    query = signed(pay_params(NOW))
    query["vnp_Amount"] = "100"
    response = await client.get(PAY_URL, params=query)
    assert response.status_code == 400
    assert _code(response.text) == "97"
    assert await transaction_count(app) == 0


async def test_no_signature_at_all_is_97(client: AsyncClient) -> None:
    response = await client.get(PAY_URL, params=pay_params(NOW))
    assert response.status_code == 400
    assert _code(response.text) == "97"


async def test_a_non_ascii_signature_is_97(client: AsyncClient) -> None:
    response = await client.get(PAY_URL, params=pay_params(NOW) | {"vnp_SecureHash": "é" * 128})
    assert response.status_code == 400
    assert _code(response.text) == "97"


async def test_a_missing_field_is_refused_with_03(app: FastAPI, client: AsyncClient) -> None:
    for missing in ("vnp_OrderInfo", "vnp_Amount", "vnp_ReturnUrl", "vnp_CreateDate"):
        response = await client.get(PAY_URL, params=signed(pay_params(NOW, **{missing: None})))
        assert response.status_code == 400, missing
        assert _code(response.text) == "03", missing
        assert missing in response.text
    assert await transaction_count(app) == 0


async def test_malformed_values_are_refused_with_03(client: AsyncClient) -> None:
    for override in (
        {"vnp_Amount": "-100"},
        {"vnp_Amount": "12.5"},
        {"vnp_Amount": "0"},
        {"vnp_Version": "2.0.0"},
        {"vnp_Command": "refund"},
        {"vnp_CurrCode": "USD"},
        {"vnp_Locale": "fr"},
        {"vnp_ReturnUrl": "javascript:alert(1)"},
        {"vnp_CreateDate": "2026-03-03"},
        {"vnp_ExpireDate": "20260303085900"},  # before the creation
    ):
        response = await client.get(PAY_URL, params=signed(pay_params(NOW, **override)))
        assert response.status_code == 400, override
        assert _code(response.text) == "03", override


async def test_another_merchant_is_refused(client: AsyncClient) -> None:
    response = await client.get(PAY_URL, params=signed(pay_params(NOW, vnp_TmnCode="OTHER")))
    assert response.status_code == 400
    assert _code(response.text) == "02"


async def test_a_repeated_parameter_is_refused(client: AsyncClient) -> None:
    query: list[tuple[str, str | int | float | bool | None]] = [
        *signed(pay_params(NOW)).items(),
        ("vnp_Amount", "1"),
    ]
    response = await client.get(PAY_URL, params=query)
    assert response.status_code == 400
    assert _code(response.text) == "03"


async def test_an_expired_link_answers_11(app: FastAPI, client: AsyncClient) -> None:
    created = NOW - timedelta(minutes=30)
    explicit = pay_params(created, vnp_ExpireDate=None)  # default expiry: 15 minutes
    response = await client.get(PAY_URL, params=signed(explicit))
    assert response.status_code == 400
    assert _code(response.text) == "11"
    stated = pay_params(created)
    response = await client.get(PAY_URL, params=signed(stated))
    assert _code(response.text) == "11"
    assert await transaction_count(app) == 0


async def test_the_same_pay_url_again_shows_the_same_pending_transaction(
    app: FastAPI, client: AsyncClient
) -> None:
    params = pay_params(NOW)
    first = await open_payment(client, params)
    second = await open_payment(client, params)
    assert first == second
    assert await transaction_count(app) == 1


async def test_the_same_txn_ref_with_other_parameters_is_refused_with_94(
    app: FastAPI, client: AsyncClient
) -> None:
    params = pay_params(NOW)
    await open_payment(client, params)
    response = await client.get(PAY_URL, params=signed({**params, "vnp_Amount": "7000000"}))
    assert response.status_code == 409
    assert _code(response.text) == "94"
    assert await transaction_count(app) == 1


async def test_the_same_txn_ref_on_another_day_is_another_transaction(
    app: FastAPI, client: AsyncClient
) -> None:
    params = pay_params(NOW)
    await open_payment(client, params)
    tomorrow = pay_params(NOW + timedelta(days=1), vnp_TxnRef=params["vnp_TxnRef"])
    tomorrow["vnp_ExpireDate"] = pay_params(NOW + timedelta(days=2))["vnp_ExpireDate"]
    await open_payment(client, tomorrow)
    assert await transaction_count(app) == 2


async def test_health_and_metrics(client: AsyncClient) -> None:
    await open_payment(client, pay_params(NOW))
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    metrics = (await client.get("/metrics")).text
    assert 'route="/paymentv2/vpcpay.html",status="200"' in metrics
    assert "portalsim_gateway_payments_total" in metrics
