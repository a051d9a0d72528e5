"""The merchant API: querydr and refund."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI
from httpx import AsyncClient

from app.core import vnpay
from app.gateway.cards import SUCCESS_CARD
from tests.gateway.conftest import NOW
from tests.gateway.support import (
    MERCHANT_API,
    SECRET,
    ledger_rows,
    open_payment,
    pay_params,
    querydr_body,
    refund_body,
)


async def _paid(client: AsyncClient, card: str = SUCCESS_CARD) -> tuple[dict[str, str], str]:
    params = pay_params(NOW)
    transaction_no = await open_payment(client, params)
    response = await client.post(f"/api/simulate/{transaction_no}", json={"card": card})
    assert response.status_code == 200
    return params, transaction_no


async def _api(client: AsyncClient, body: Mapping[str, object]) -> dict[str, str]:
    response = await client.post(MERCHANT_API, json=body)
    assert response.status_code == 200
    answer: dict[str, str] = response.json()
    return answer


def _verifies(answer: Mapping[str, str]) -> bool:
    fields = vnpay.QUERYDR_RESPONSE if answer["vnp_Command"] == "querydr" else vnpay.REFUND_RESPONSE
    return vnpay.verify_fields(answer, fields, SECRET)


async def test_querydr_finds_a_payment_and_signs_the_answer(client: AsyncClient) -> None:
    params, transaction_no = await _paid(client)
    body = querydr_body(params, NOW)
    answer = await _api(client, body)
    assert _verifies(answer)
    assert answer["vnp_ResponseCode"] == "00"
    assert answer["vnp_Command"] == "querydr"
    assert answer["vnp_TmnCode"] == params["vnp_TmnCode"]
    assert answer["vnp_TxnRef"] == params["vnp_TxnRef"]
    assert answer["vnp_Amount"] == params["vnp_Amount"]
    assert answer["vnp_TransactionNo"] == transaction_no
    assert answer["vnp_TransactionStatus"] == "00"
    assert answer["vnp_TransactionType"] == "01"
    assert answer["vnp_BankCode"] == "NCB"
    assert answer["vnp_PayDate"] == vnpay.format_date(NOW)
    assert answer["vnp_OrderInfo"] == params["vnp_OrderInfo"]
    assert answer["vnp_ResponseId"]


async def test_querydr_of_a_declined_payment(client: AsyncClient) -> None:
    params, _ = await _paid(client, "9704000000000051")
    answer = await _api(client, querydr_body(params, NOW))
    assert (answer["vnp_ResponseCode"], answer["vnp_TransactionStatus"]) == ("00", "02")


async def test_querydr_of_an_unknown_transaction_is_91(client: AsyncClient) -> None:
    answer = await _api(client, querydr_body(pay_params(NOW), NOW))
    assert answer["vnp_ResponseCode"] == "91"
    assert _verifies(answer)


async def test_querydr_on_the_wrong_day_is_91(client: AsyncClient) -> None:
    params, _ = await _paid(client)
    body = querydr_body(params, NOW, vnp_TransactionDate="20260304090000")
    assert (await _api(client, body))["vnp_ResponseCode"] == "91"


async def test_querydr_with_a_bad_signature_is_97(client: AsyncClient) -> None:
    params, _ = await _paid(client)
    body = querydr_body(params, NOW)
    body["vnp_TxnRef"] = "someone-else"
    answer = await _api(client, body)
    assert answer["vnp_ResponseCode"] == "97"
    assert "vnp_TransactionStatus" not in answer


async def test_querydr_with_a_non_ascii_signature_is_97(client: AsyncClient) -> None:
    params, _ = await _paid(client)
    answer = await _api(client, querydr_body(params, NOW) | {"vnp_SecureHash": "é"})
    assert answer["vnp_ResponseCode"] == "97"


async def test_a_repeated_request_id_is_94(client: AsyncClient) -> None:
    params, _ = await _paid(client)
    body = querydr_body(params, NOW)
    assert (await _api(client, body))["vnp_ResponseCode"] == "00"
    assert (await _api(client, body))["vnp_ResponseCode"] == "94"


async def test_another_merchant_is_02(client: AsyncClient) -> None:
    params, _ = await _paid(client)
    answer = await _api(client, querydr_body(params, NOW, vnp_TmnCode="OTHER"))
    assert answer["vnp_ResponseCode"] == "02"


async def test_bad_format_is_03(client: AsyncClient) -> None:
    params, _ = await _paid(client)
    for body in (
        {},
        {"vnp_Command": "querydr"},
        {"vnp_Command": "pay"},
        querydr_body(params, NOW, vnp_CreateDate="yesterday"),
        querydr_body(params, NOW, vnp_Version="2.0.0"),
    ):
        answer = await _api(client, body)
        assert answer["vnp_ResponseCode"] == "03", body
    for raw in (b"not json", b"[1, 2]", b'{"vnp_Command": "querydr\\u0000"}', b"\xff\xfe"):
        response = await client.post(
            MERCHANT_API, content=raw, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 200
        assert response.json()["vnp_ResponseCode"] == "03"


async def test_a_full_refund(app: FastAPI, client: AsyncClient) -> None:
    params, transaction_no = await _paid(client)
    answer = await _api(client, refund_body(params, NOW, amount=5_000_000))
    assert _verifies(answer)
    assert answer["vnp_ResponseCode"] == "00"
    assert answer["vnp_Command"] == "refund"
    assert answer["vnp_TransactionType"] == "02"
    assert answer["vnp_TransactionStatus"] == "04"
    assert answer["vnp_Amount"] == "5000000"
    status = await _api(client, querydr_body(params, NOW))
    assert status["vnp_TransactionStatus"] == "04"
    transaction, _ = await ledger_rows(app, transaction_no)
    assert transaction.refunded_amount == 5_000_000
    again = await _api(client, refund_body(params, NOW, amount=100))
    assert again["vnp_ResponseCode"] == "95"  # nothing left: no longer a successful payment


async def test_partial_refunds_until_nothing_remains(client: AsyncClient) -> None:
    params, _ = await _paid(client)
    first = await _api(client, refund_body(params, NOW, amount=2_000_000, kind="03"))
    assert (first["vnp_ResponseCode"], first["vnp_TransactionStatus"]) == ("00", "00")
    over = await _api(client, refund_body(params, NOW, amount=3_000_100, kind="03"))
    assert over["vnp_ResponseCode"] == "93"
    not_all = await _api(client, refund_body(params, NOW, amount=1_000_000, kind="02"))
    assert not_all["vnp_ResponseCode"] == "93"  # a full refund must take all that remains
    rest = await _api(client, refund_body(params, NOW, amount=3_000_000, kind="02"))
    assert (rest["vnp_ResponseCode"], rest["vnp_TransactionStatus"]) == ("00", "04")


async def test_a_refund_above_the_amount_is_refused(client: AsyncClient) -> None:
    params, _ = await _paid(client)
    answer = await _api(client, refund_body(params, NOW, amount=5_000_100, kind="03"))
    assert answer["vnp_ResponseCode"] == "93"
    status = await _api(client, querydr_body(params, NOW))
    assert status["vnp_TransactionStatus"] == "00"


async def test_a_refund_of_a_failed_or_pending_payment_is_refused(client: AsyncClient) -> None:
    failed, _ = await _paid(client, "9704000000000051")
    answer = await _api(client, refund_body(failed, NOW, amount=5_000_000))
    assert answer["vnp_ResponseCode"] == "95"
    pending = pay_params(NOW)
    await open_payment(client, pending)
    answer = await _api(client, refund_body(pending, NOW, amount=5_000_000))
    assert answer["vnp_ResponseCode"] == "95"


async def test_refund_format_and_signature(client: AsyncClient) -> None:
    params, transaction_no = await _paid(client)
    assert (await _api(client, refund_body(params, NOW, amount=100, kind="01")))[
        "vnp_ResponseCode"
    ] == "03"
    assert (await _api(client, refund_body(params, NOW, amount=0)))["vnp_ResponseCode"] == "03"
    forged = refund_body(params, NOW, amount=100, kind="03")
    forged["vnp_Amount"] = "5000000"
    assert (await _api(client, forged))["vnp_ResponseCode"] == "97"
    wrong_no = refund_body(params, NOW, amount=100, kind="03", vnp_TransactionNo="1")
    assert (await _api(client, wrong_no))["vnp_ResponseCode"] == "91"
    right_no = refund_body(params, NOW, amount=100, kind="03", vnp_TransactionNo=transaction_no)
    assert (await _api(client, right_no))["vnp_ResponseCode"] == "00"
