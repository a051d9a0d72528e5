"""The gateway's test support: a merchant stand-in, a recording sleep, signed requests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from httpx import AsyncClient

from app.core import vnpay

TMN_CODE = "PORTALTEST"
SECRET = "gateway-test-secret-0123456789abcdef"
IPN_URL = "http://merchant.test/ipn"
RETURN_URL = "http://merchant.test/return"
PAY_URL = "/paymentv2/vpcpay.html"
MERCHANT_API = "/merchant_webapi/api/transaction"


class Merchant:
    """A merchant stand-in that records IPNs and answers a scripted sequence (the last answer
    repeats). An answer is an RspCode, or "500" / "html" for a server error / a non-JSON body."""

    def __init__(self, answers: list[str] | None = None) -> None:
        self.answers = list(answers or ["00"])
        self.ipns: list[dict[str, str]] = []
        self.app = FastAPI()
        self.app.add_api_route("/ipn", self._ipn, methods=["GET"])

    def answer_with(self, *answers: str) -> None:
        self.answers = list(answers)

    async def _ipn(self, request: Request) -> Response:
        self.ipns.append(dict(request.query_params))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if answer == "500":
            return PlainTextResponse("boom", status_code=500)
        if answer == "html":
            return PlainTextResponse("<html>ok</html>")
        return JSONResponse({"RspCode": answer, "Message": "stand-in"})


class RecordingSleep:
    """Replaces asyncio.sleep in the gateway: records each wait, waits for nothing."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(0)


def pay_params(now: datetime, **overrides: Any) -> dict[str, str]:
    """A merchant's pay-URL parameters (unsigned); `name=None` leaves a parameter out."""
    params: dict[str, Any] = {
        "vnp_Version": "2.1.0",
        "vnp_Command": "pay",
        "vnp_TmnCode": TMN_CODE,
        "vnp_Amount": "5000000",
        "vnp_CurrCode": "VND",
        "vnp_TxnRef": uuid.uuid4().hex[:12],
        "vnp_OrderInfo": "Nộp phí hồ sơ 000.00.01.H01-260303-0001",
        "vnp_OrderType": "other",
        "vnp_Locale": "vn",
        "vnp_ReturnUrl": RETURN_URL,
        "vnp_IpAddr": "127.0.0.1",
        "vnp_CreateDate": vnpay.format_date(now),
        "vnp_ExpireDate": vnpay.format_date(now + timedelta(minutes=15)),
    }
    params.update(overrides)
    return {name: str(value) for name, value in params.items() if value is not None}


def signed(params: Mapping[str, str], secret: str = SECRET) -> dict[str, str]:
    return {**params, "vnp_SecureHash": vnpay.sign(params, secret)}


async def open_payment(
    client: AsyncClient, params: Mapping[str, str], faults: str | None = None
) -> str:
    """Open a pay URL and return its transaction number."""
    headers = {"X-Gateway-Faults": faults} if faults is not None else {}
    response = await client.get(PAY_URL, params=signed(params), headers=headers)
    assert response.status_code == 200, response.text
    return response.headers["X-Transaction-No"]


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def querydr_body(params: Mapping[str, str], now: datetime, **overrides: str) -> dict[str, str]:
    body = {
        "vnp_RequestId": uuid.uuid4().hex[:16],
        "vnp_Version": "2.1.0",
        "vnp_Command": "querydr",
        "vnp_TmnCode": TMN_CODE,
        "vnp_TxnRef": params["vnp_TxnRef"],
        "vnp_TransactionDate": params["vnp_CreateDate"],
        "vnp_CreateDate": vnpay.format_date(now),
        "vnp_IpAddr": "127.0.0.1",
        "vnp_OrderInfo": "Truy van giao dich",
        **overrides,
    }
    body["vnp_SecureHash"] = vnpay.sign_fields(body, vnpay.QUERYDR_REQUEST, SECRET)
    return body


def refund_body(
    params: Mapping[str, str], now: datetime, *, amount: int, kind: str = "02", **overrides: str
) -> dict[str, str]:
    body = {
        "vnp_RequestId": uuid.uuid4().hex[:16],
        "vnp_Version": "2.1.0",
        "vnp_Command": "refund",
        "vnp_TmnCode": TMN_CODE,
        "vnp_TransactionType": kind,
        "vnp_TxnRef": params["vnp_TxnRef"],
        "vnp_Amount": str(amount),
        "vnp_TransactionNo": "",
        "vnp_TransactionDate": params["vnp_CreateDate"],
        "vnp_CreateBy": "portal",
        "vnp_CreateDate": vnpay.format_date(now),
        "vnp_IpAddr": "127.0.0.1",
        "vnp_OrderInfo": "Hoan tien",
        **overrides,
    }
    body["vnp_SecureHash"] = vnpay.sign_fields(body, vnpay.REFUND_REQUEST, SECRET)
    return body


async def ledger_rows(app: FastAPI, transaction_no: str) -> tuple[Any, list[Any]]:
    """A transaction and its IPN attempts, read from the app's ledger."""
    from app.gateway.repository import GatewayRepository

    database = app.state.database
    async with database.read() as session:
        repository = GatewayRepository(session)
        transaction = await repository.by_transaction_no(transaction_no)
        assert transaction is not None
        deliveries = list(await repository.deliveries(transaction.id))
    return transaction, deliveries


async def transaction_count(app: FastAPI) -> int:
    from app.gateway.repository import GatewayRepository

    async with app.state.database.read() as session:
        return await GatewayRepository(session).count_transactions()


async def drain(app: FastAPI) -> None:
    await app.state.ipn.drain()
