"""The portal's calls to the gateway's merchant API (querydr, refund), signed and verified."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from app.core import vnpay
from app.core.config import Settings
from app.payments.errors import GatewayUnavailable
from app.payments.models import Payment

API_PATH = "/merchant_webapi/api/transaction"
# Past this a querydr or refund counts as unreachable; the IPN it races is the gateway's.
TIMEOUT_SECONDS = 10.0


def gateway_http_client(
    *, timeout: float = TIMEOUT_SECONDS, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The portal's HTTP client for the gateway's merchant API (`transport`: tests route it to
    an in-process gateway app)."""
    return httpx.AsyncClient(timeout=timeout, transport=transport)


@dataclass(frozen=True, slots=True)
class GatewayView:
    response_code: str  # vnp_ResponseCode of the API call
    transaction_status: vnpay.TransactionStatus | None  # of the payment
    amount: int | None  # VND
    transaction_no: str | None
    bank_code: str | None

    @property
    def found(self) -> bool:
        return self.response_code == vnpay.API_OK


class GatewayClient:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http

    async def query(self, payment: Payment, created_at: datetime) -> GatewayView:
        values = self._common("querydr", payment, created_at) | {
            "vnp_OrderInfo": f"Tra cuu giao dich {payment.txn_ref}",
        }
        values["vnp_SecureHash"] = vnpay.sign_fields(
            values, vnpay.QUERYDR_REQUEST, self.settings.vnpay_hash_secret
        )
        return self._view(await self._post(values), vnpay.QUERYDR_RESPONSE)

    async def refund(self, payment: Payment, created_at: datetime) -> GatewayView:
        values = self._common("refund", payment, created_at) | {
            "vnp_TransactionType": "02",  # full refund
            "vnp_Amount": payment.amount * 100,
            "vnp_TransactionNo": payment.transaction_no or "0",
            "vnp_CreateBy": "portalsim",
            "vnp_OrderInfo": f"Hoan tien ho so {payment.txn_ref}",
        }
        values["vnp_SecureHash"] = vnpay.sign_fields(
            values, vnpay.REFUND_REQUEST, self.settings.vnpay_hash_secret
        )
        return self._view(await self._post(values), vnpay.REFUND_RESPONSE)

    def _common(self, command: str, payment: Payment, created_at: datetime) -> dict[str, Any]:
        return {
            "vnp_RequestId": uuid.uuid4().hex,
            "vnp_Version": vnpay.VERSION,
            "vnp_Command": command,
            "vnp_TmnCode": self.settings.vnpay_tmn_code,
            "vnp_TxnRef": payment.txn_ref,
            "vnp_TransactionDate": vnpay.format_date(created_at),
            "vnp_CreateDate": vnpay.format_date(datetime.now(UTC)),
            "vnp_IpAddr": "127.0.0.1",
        }

    async def _post(self, values: dict[str, Any]) -> dict[str, Any]:
        url = self.settings.vnpay_gateway_url.rstrip("/") + API_PATH
        try:
            response = await self.http.post(url, json=values)
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"gateway unreachable: {exc!r}") from exc
        if response.status_code >= 500:
            raise GatewayUnavailable(f"gateway answered {response.status_code}")
        try:
            body: dict[str, Any] = response.json()
        except ValueError as exc:
            raise GatewayUnavailable("gateway answered no JSON") from exc
        return body

    def _view(self, body: dict[str, Any], fields: tuple[str, ...]) -> GatewayView:
        code = str(body.get("vnp_ResponseCode", ""))
        signed = body.get("vnp_SecureHash")
        if signed and not vnpay.verify_fields(body, fields, self.settings.vnpay_hash_secret):
            raise GatewayUnavailable("the gateway's answer is not signed with our secret")
        amount = str(body.get("vnp_Amount") or "")
        return GatewayView(
            response_code=code,
            transaction_status=_status(body.get("vnp_TransactionStatus")),
            amount=int(amount) // 100 if amount.isdigit() else None,
            transaction_no=_text(body.get("vnp_TransactionNo")),
            bank_code=_text(body.get("vnp_BankCode")),
        )


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _status(value: Any) -> vnpay.TransactionStatus | None:
    try:
        return vnpay.TransactionStatus(str(value))
    except ValueError:  # absent, or a status the contract does not define
        return None
