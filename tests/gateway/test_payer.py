"""The payer simulation: test cards and outcomes, the redirect, the JSON variant."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.core import vnpay
from app.gateway.cards import SUCCESS_CARD, TEST_CARDS, Card
from tests.gateway.conftest import NOW
from tests.gateway.support import (
    MERCHANT_API,
    PAY_URL,
    RETURN_URL,
    SECRET,
    Merchant,
    drain,
    ledger_rows,
    open_payment,
    pay_params,
    query_of,
    querydr_body,
    signed,
)
from tests.support.clock import ManualClock

RESULT_FIELDS = {
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_CardType",
    "vnp_OrderInfo",
    "vnp_PayDate",
    "vnp_ResponseCode",
    "vnp_TmnCode",
    "vnp_TransactionNo",
    "vnp_TransactionStatus",
    "vnp_TxnRef",
    "vnp_SecureHash",
}


async def test_the_success_card_redirects_to_the_return_url_with_a_signed_result(
    app: FastAPI, client: AsyncClient, merchant: Merchant
) -> None:
    params = pay_params(NOW)
    transaction_no = await open_payment(client, params)
    response = await client.post(f"/paymentv2/pay/{transaction_no}", data={"card": SUCCESS_CARD})
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(RETURN_URL + "?")
    result = query_of(location)
    assert vnpay.verify(result, SECRET)
    assert RESULT_FIELDS | {"vnp_BankTranNo"} == set(result)
    assert result["vnp_ResponseCode"] == "00"
    assert result["vnp_TransactionStatus"] == "00"
    assert result["vnp_TransactionNo"] == transaction_no
    assert result["vnp_Amount"] == params["vnp_Amount"]
    assert result["vnp_TxnRef"] == params["vnp_TxnRef"]
    assert result["vnp_PayDate"] == vnpay.format_date(NOW)
    await drain(app)
    assert len(merchant.ipns) == 1
    assert merchant.ipns[0] == result  # the IPN carries the same signed result
    transaction, deliveries = await ledger_rows(app, transaction_no)
    assert (transaction.status, transaction.response_code) == ("00", "00")
    assert [(d.attempt, d.outcome, d.rsp_code, d.http_status) for d in deliveries] == [
        (1, "confirmed", "00", 200)
    ]


@pytest.mark.parametrize("card", [c for c in TEST_CARDS if c.response_code != "00"])
async def test_each_decline_card_gives_its_code(
    app: FastAPI, client: AsyncClient, merchant: Merchant, card: Card
) -> None:
    number, code = card.number, card.response_code
    transaction_no = await open_payment(client, pay_params(NOW))
    response = await client.post(f"/paymentv2/pay/{transaction_no}", data={"card": number})
    assert response.status_code == 302
    result = query_of(response.headers["location"])
    assert vnpay.verify(result, SECRET)
    assert result["vnp_ResponseCode"] == code
    assert result["vnp_TransactionStatus"] == ("07" if code == "07" else "02")
    await drain(app)
    assert [ipn["vnp_ResponseCode"] for ipn in merchant.ipns] == [code]


async def test_cancel_gives_24(client: AsyncClient) -> None:
    transaction_no = await open_payment(client, pay_params(NOW))
    response = await client.post(f"/paymentv2/pay/{transaction_no}", data={"outcome": "cancel"})
    result = query_of(response.headers["location"])
    assert (result["vnp_ResponseCode"], result["vnp_TransactionStatus"]) == ("24", "02")


async def test_an_outcome_may_be_a_response_code(client: AsyncClient) -> None:
    transaction_no = await open_payment(client, pay_params(NOW))
    response = await client.post(f"/paymentv2/pay/{transaction_no}", data={"outcome": "65"})
    assert query_of(response.headers["location"])["vnp_ResponseCode"] == "65"


async def test_abandon_sends_nothing_and_leaves_the_transaction_pending(
    app: FastAPI, client: AsyncClient, merchant: Merchant
) -> None:
    params = pay_params(NOW)
    transaction_no = await open_payment(client, params)
    response = await client.post(f"/paymentv2/pay/{transaction_no}", data={"outcome": "abandon"})
    assert response.status_code == 200
    assert "chờ thanh toán" in response.text
    await drain(app)
    assert merchant.ipns == []
    answer = (await client.post(MERCHANT_API, json=querydr_body(params, NOW))).json()
    assert answer["vnp_ResponseCode"] == "00"
    assert answer["vnp_TransactionStatus"] == "01"


async def test_paying_after_expiry_answers_11(
    client: AsyncClient, clock: ManualClock, merchant: Merchant, app: FastAPI
) -> None:
    transaction_no = await open_payment(client, pay_params(NOW))
    await client.post(f"/paymentv2/pay/{transaction_no}", data={"outcome": "abandon"})
    clock.advance(minutes=16)
    response = await client.post(f"/paymentv2/pay/{transaction_no}", data={"card": SUCCESS_CARD})
    result = query_of(response.headers["location"])
    assert (result["vnp_ResponseCode"], result["vnp_TransactionStatus"]) == ("11", "02")
    await drain(app)
    assert [ipn["vnp_ResponseCode"] for ipn in merchant.ipns] == ["11"]


async def test_paying_twice_is_409(client: AsyncClient) -> None:
    transaction_no = await open_payment(client, pay_params(NOW))
    await client.post(f"/paymentv2/pay/{transaction_no}", data={"card": SUCCESS_CARD})
    again = await client.post(f"/paymentv2/pay/{transaction_no}", data={"card": SUCCESS_CARD})
    assert again.status_code == 409
    api = await client.post(f"/api/simulate/{transaction_no}", json={"outcome": "success"})
    assert api.status_code == 409
    assert api.json()["response_code"] == "94"


async def test_the_same_pay_url_after_payment_is_409(client: AsyncClient) -> None:
    params = pay_params(NOW)
    transaction_no = await open_payment(client, params)
    await client.post(f"/paymentv2/pay/{transaction_no}", data={"card": SUCCESS_CARD})
    response = await client.get(PAY_URL, params=signed(params))
    assert response.status_code == 409


async def test_an_unknown_card_or_transaction_is_refused(client: AsyncClient) -> None:
    transaction_no = await open_payment(client, pay_params(NOW))
    response = await client.post(f"/paymentv2/pay/{transaction_no}", data={"card": "1234"})
    assert response.status_code == 400
    response = await client.post(f"/paymentv2/pay/{transaction_no}", data={"outcome": "maybe"})
    assert response.status_code == 400
    response = await client.post(f"/paymentv2/pay/{transaction_no}", data={})
    assert response.status_code == 400
    response = await client.post("/paymentv2/pay/99999999", data={"card": SUCCESS_CARD})
    assert response.status_code == 404
    response = await client.post("/api/simulate/99999999", json={"outcome": "success"})
    assert response.status_code == 404
    response = await client.post(f"/api/simulate/{transaction_no}", json=["nope"])
    assert response.status_code == 422


async def test_the_json_simulation_answers_the_signed_return_url(
    app: FastAPI, client: AsyncClient, merchant: Merchant
) -> None:
    params = pay_params(NOW)
    transaction_no = await open_payment(client, params)
    response = await client.post(f"/api/simulate/{transaction_no}", json={"card": SUCCESS_CARD})
    assert response.status_code == 200
    body = response.json()
    assert body["response_code"] == "00"
    assert body["transaction_status"] == "00"
    result = query_of(body["return_url"])
    assert vnpay.verify(result, SECRET)
    assert result["vnp_TxnRef"] == params["vnp_TxnRef"]
    await drain(app)
    assert len(merchant.ipns) == 1


async def test_the_json_simulation_abandons(client: AsyncClient) -> None:
    transaction_no = await open_payment(client, pay_params(NOW))
    body = (
        await client.post(f"/api/simulate/{transaction_no}", json={"outcome": "abandon"})
    ).json()
    assert body == {
        "transaction_no": transaction_no,
        "response_code": None,
        "transaction_status": "01",
        "return_url": None,
    }


async def test_a_return_url_with_its_own_query_keeps_it(client: AsyncClient) -> None:
    params = pay_params(NOW, vnp_ReturnUrl=RETURN_URL + "?lang=vi")
    transaction_no = await open_payment(client, params)
    body = (
        await client.post(f"/api/simulate/{transaction_no}", json={"outcome": "success"})
    ).json()
    assert body["return_url"].startswith(RETURN_URL + "?lang=vi&vnp_")
    assert vnpay.verify(query_of(body["return_url"]), SECRET)


async def test_payments_are_counted_by_outcome(client: AsyncClient) -> None:
    for outcome in ("success", "cancel", "abandon"):
        transaction_no = await open_payment(client, pay_params(NOW + timedelta(seconds=1)))
        await client.post(f"/api/simulate/{transaction_no}", json={"outcome": outcome})
    metrics = (await client.get("/metrics")).text
    for label in ("00", "24", "abandon"):
        assert f'portalsim_gateway_payments_total{{outcome="{label}"}} 1.0' in metrics
