"""The gateway's rules: opening a pay URL, the payer's outcome, IPN scheduling, the merchant API.

Each operation owns its transaction (one unit of work), because a payment must be committed
before its IPN leaves and, with `ipn_before_return`, the IPN must complete before the payer's
302 is sent: both happen after the commit and before the endpoint returns.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from app.core import vnpay
from app.core.clock import Clock
from app.core.config import Settings
from app.core.db import Database
from app.gateway import cards
from app.gateway.errors import (
    InjectedError,
    InjectedTimeout,
    PaymentRefused,
    TransactionConflict,
    TransactionNotFound,
)
from app.gateway.faults import FaultRoller, Faults, from_json, merge, to_json
from app.gateway.ipn import IpnDispatcher, Sleep
from app.gateway.metrics import GatewayMetrics
from app.gateway.models import Delivery, GatewayApiRequest, GatewayTransaction
from app.gateway.repository import GatewayRepository

# Pay-URL and merchant-API codes beyond those of app.core.vnpay
CODE_MERCHANT_INVALID = "02"
CODE_BAD_FORMAT = "03"
CODE_EXPIRED = "11"
CODE_NOT_FOUND = "91"
CODE_INVALID_REFUND_AMOUNT = "93"
CODE_DUPLICATE = "94"
CODE_NOT_SUCCESSFUL = "95"
CODE_BAD_SIGNATURE = "97"
API_MESSAGES = {
    "00": "Yêu cầu thành công",
    "02": "Mã định danh kết nối không hợp lệ (kiểm tra lại TmnCode)",
    "03": "Dữ liệu gửi sang không đúng định dạng",
    "91": "Không tìm thấy giao dịch yêu cầu",
    "93": "Số tiền hoàn trả không hợp lệ",
    "94": "Yêu cầu bị trùng lặp",
    "95": "Giao dịch này không thành công bên VNPAY. VNPAY từ chối xử lý yêu cầu",
    "97": "Chữ ký không hợp lệ",
    "99": "Lỗi không xác định",
}
PAY_REQUIRED = (
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_Amount",
    "vnp_CurrCode",
    "vnp_TxnRef",
    "vnp_OrderInfo",
    "vnp_OrderType",
    "vnp_Locale",
    "vnp_ReturnUrl",
    "vnp_IpAddr",
    "vnp_CreateDate",
)
MAX_LENGTHS = {"vnp_TxnRef": 100, "vnp_OrderInfo": 255, "vnp_OrderType": 100, "vnp_IpAddr": 64}
QUERYDR = "querydr"
REFUND = "refund"
REFUND_FULL = "02"
REFUND_PARTIAL = "03"
TRANSACTION_TYPE_PAYMENT = "01"


@dataclass
class PayResult:
    transaction: GatewayTransaction
    response_code: str | None  # None: abandoned
    return_url: str | None
    ipn_tasks: list[asyncio.Task[Delivery]] = field(default_factory=list)


class GatewayService:
    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        clock: Clock,
        roller: FaultRoller,
        base_faults: Faults,
        dispatcher: IpnDispatcher,
        metrics: GatewayMetrics,
        sleep: Sleep,
    ) -> None:
        self.settings = settings
        self.database = database
        self.clock = clock
        self.roller = roller
        self.base_faults = base_faults
        self.dispatcher = dispatcher
        self.metrics = metrics
        self.sleep = sleep

    @property
    def secret(self) -> str:
        return self.settings.vnpay_hash_secret

    # -- faults -----------------------------------------------------------------------------

    def faults_of(self, transaction: GatewayTransaction) -> Faults:
        return from_json(transaction.faults)

    async def disturb(self, faults: Faults, *, may_fail: bool = True) -> None:
        """Apply the knobs that touch a response: latency, then error or timeout."""
        latency = self.roller.fires(faults, "latency")
        if latency is not None:
            await self.sleep(latency.number / 1000)
        if not may_fail:
            return
        if self.roller.fires(faults, "error") is not None:
            raise InjectedError
        timeout = self.roller.fires(faults, "timeout")
        if timeout is not None:
            await self.sleep(min(timeout.number, self.settings.gateway_timeout_max_seconds))
            raise InjectedTimeout

    # -- pay URL ----------------------------------------------------------------------------

    async def open(self, params: Mapping[str, str], header_faults: Faults) -> GatewayTransaction:
        """A pay URL's pending transaction: new, or the same one for the same parameters."""
        tmn_code = params.get("vnp_TmnCode")
        if not tmn_code:
            raise PaymentRefused(CODE_BAD_FORMAT, "thiếu tham số vnp_TmnCode")
        if tmn_code != self.settings.vnpay_tmn_code:
            raise PaymentRefused(CODE_MERCHANT_INVALID, "Website chưa được phê duyệt (TmnCode)")
        if not vnpay.verify(params, self.secret):
            raise PaymentRefused(CODE_BAD_SIGNATURE, "Sai chữ ký (vnp_SecureHash)")
        expires = _validate_pay(params, self.settings.gateway_expire_minutes)
        if self.clock.now() > expires:
            raise PaymentRefused(CODE_EXPIRED, vnpay.PAYMENT_RESPONSES[CODE_EXPIRED])
        faults = merge(self.base_faults, header_faults)
        digest = hashlib.sha256(vnpay.signing_string(params).encode()).hexdigest()
        create_date = params["vnp_CreateDate"]
        transaction = GatewayTransaction(
            tmn_code=tmn_code,
            txn_ref=params["vnp_TxnRef"],
            create_day=create_date[:8],
            amount=int(params["vnp_Amount"]),
            order_info=params["vnp_OrderInfo"],
            order_type=params["vnp_OrderType"],
            return_url=params["vnp_ReturnUrl"],
            create_date=create_date,
            expire_date=vnpay.format_date(expires),
            expires_at=expires,
            locale=params["vnp_Locale"],
            bank_code=params.get("vnp_BankCode") or None,
            ip=params["vnp_IpAddr"],
            params_digest=digest,
            status=vnpay.TransactionStatus.INCOMPLETE,
            faults=to_json(faults),
            refunded_amount=0,
            created_at=self.clock.now(),
        )
        async with self.database.write() as session:
            repository = GatewayRepository(session)
            if await repository.add_transaction(transaction):
                return transaction
            existing = await repository.find(tmn_code, transaction.txn_ref, transaction.create_day)
        if existing is None:  # pragma: no cover - a unique violation implies the row exists
            raise RuntimeError(f"{transaction.txn_ref} is both taken and missing")
        if existing.params_digest != digest:
            raise TransactionConflict(
                CODE_DUPLICATE, "Mã giao dịch (vnp_TxnRef) đã tồn tại với thông tin khác"
            )
        if existing.status != vnpay.TransactionStatus.INCOMPLETE:
            raise TransactionConflict(CODE_DUPLICATE, "Giao dịch đã được xử lý")
        return existing

    async def transaction(self, transaction_no: str) -> GatewayTransaction:
        async with self.database.read() as session:
            found = await GatewayRepository(session).by_transaction_no(transaction_no)
        if found is None:
            raise TransactionNotFound(CODE_NOT_FOUND, "Không tìm thấy giao dịch")
        return found

    # -- the payer --------------------------------------------------------------------------

    async def pay(self, transaction_no: str, *, card: str | None, outcome: str | None) -> PayResult:
        """Settle a pending transaction with a test card or an outcome, then send its IPN."""
        faults = self.faults_of(await self.transaction(transaction_no))
        await self.disturb(faults)
        try:
            code = cards.response_code_for(card=card, outcome=outcome)
        except cards.UnknownCard as exc:
            raise PaymentRefused(CODE_BAD_FORMAT, str(exc)) from None
        now = self.clock.now()
        async with self.database.write() as session:
            repository = GatewayRepository(session)
            transaction = await repository.by_transaction_no(transaction_no, for_update=True)
            if transaction is None:
                raise TransactionNotFound(CODE_NOT_FOUND, "Không tìm thấy giao dịch")
            if transaction.status != vnpay.TransactionStatus.INCOMPLETE:
                raise TransactionConflict(CODE_DUPLICATE, "Giao dịch đã được xử lý")
            if code is not None and now > vnpay.parse_date(transaction.expire_date):
                code = CODE_EXPIRED
            if code is None:
                self.metrics.payments.labels("abandon").inc()
                return PayResult(transaction, None, None)
            if code == "00":
                decline = self.roller.fires(faults, "decline")
                if decline is not None and decline.value:
                    code = decline.value
            transaction.response_code = code
            transaction.status = cards.transaction_status(code)
            transaction.pay_date = vnpay.format_date(now)
            transaction.bank_code = transaction.bank_code or cards.BANK_CODE
            transaction.card_type = cards.CARD_TYPE
            if transaction.status != vnpay.TransactionStatus.FAILED:
                transaction.bank_tran_no = f"VNP{transaction.transaction_no}"
            await session.flush()
        self.metrics.payments.labels(code).inc()
        params = result_params(transaction)
        tasks = self._send_ipn(transaction, params, faults)
        if tasks and self.roller.fires(faults, "ipn_before_return") is not None:
            await asyncio.gather(*tasks, return_exceptions=True)
        separator = "&" if "?" in transaction.return_url else "?"
        return_url = f"{transaction.return_url}{separator}{vnpay.signed_query(params, self.secret)}"
        return PayResult(transaction, code, return_url, tasks)

    def _send_ipn(
        self, transaction: GatewayTransaction, params: Mapping[str, str], faults: Faults
    ) -> list[asyncio.Task[Delivery]]:
        if self.roller.fires(faults, "ipn_never") is not None:
            self.metrics.ipn_deliveries.labels(Delivery.NEVER).inc()
            return []
        late = self.roller.fires(faults, "ipn_late")
        duplicate = self.roller.fires(faults, "ipn_duplicate")
        return self.dispatcher.start(
            transaction.id,
            params,
            delay=late.number if late is not None else 0.0,
            copies=2 if duplicate is not None else 1,
        )

    # -- merchant API -----------------------------------------------------------------------

    async def merchant_api(self, body: Mapping[str, Any]) -> dict[str, str]:
        command = str(body.get("vnp_Command") or "")
        if command not in (QUERYDR, REFUND):
            return self._api_answer(command, CODE_BAD_FORMAT)
        request_fields = vnpay.QUERYDR_REQUEST if command == QUERYDR else vnpay.REFUND_REQUEST
        values = {name: _text(value) for name, value in body.items()}
        missing = [
            name
            for name in (*request_fields, "vnp_SecureHash")
            if not values.get(name) and name not in ("vnp_TransactionNo",)
        ]
        if missing:
            return self._api_answer(command, CODE_BAD_FORMAT, f"thiếu {', '.join(missing)}")
        if values["vnp_TmnCode"] != self.settings.vnpay_tmn_code:
            return self._api_answer(command, CODE_MERCHANT_INVALID)
        if not vnpay.verify_fields(values, request_fields, self.secret):
            return self._api_answer(command, CODE_BAD_SIGNATURE)
        problem = _validate_api(values, command)
        if problem:
            return self._api_answer(command, CODE_BAD_FORMAT, problem)
        async with self.database.write() as session:
            repository = GatewayRepository(session)
            fresh = await repository.add_request(
                GatewayApiRequest(
                    tmn_code=values["vnp_TmnCode"],
                    request_id=values["vnp_RequestId"],
                    request_day=values["vnp_CreateDate"][:8],
                    command=command,
                    response_code="00",
                    created_at=self.clock.now(),
                )
            )
            if not fresh:
                return self._api_answer(command, CODE_DUPLICATE)
            transaction = await repository.find(
                values["vnp_TmnCode"], values["vnp_TxnRef"], values["vnp_TransactionDate"][:8]
            )
            if transaction is None or (
                values.get("vnp_TransactionNo")
                and values["vnp_TransactionNo"] not in ("0", transaction.transaction_no)
            ):
                return self._api_answer(command, CODE_NOT_FOUND)
            if command == QUERYDR:
                return self._api_answer(command, "00", transaction=transaction)
            transaction = await repository.lock(transaction)
            code = _refund(transaction, values)
            if code != "00":
                return self._api_answer(command, code, transaction=transaction)
            await session.flush()
            return self._api_answer(
                command,
                "00",
                transaction=transaction,
                transaction_type=values["vnp_TransactionType"],
                amount=values["vnp_Amount"],
            )

    def api_answer_bad_format(self, body: object) -> dict[str, str]:
        """The answer to a body that is not a JSON object of text."""
        command = body.get("vnp_Command") if isinstance(body, dict) else None
        return self._api_answer(command if command in (QUERYDR, REFUND) else "", CODE_BAD_FORMAT)

    def _api_answer(
        self,
        command: str,
        code: str,
        message: str | None = None,
        *,
        transaction: GatewayTransaction | None = None,
        transaction_type: str = TRANSACTION_TYPE_PAYMENT,
        amount: str | None = None,
    ) -> dict[str, str]:
        answer = {
            "vnp_ResponseId": uuid.uuid4().hex,
            "vnp_Command": command,
            "vnp_ResponseCode": code,
            "vnp_Message": message or API_MESSAGES.get(code, API_MESSAGES["99"]),
            "vnp_TmnCode": self.settings.vnpay_tmn_code,
        }
        if transaction is not None:
            answer |= {
                "vnp_TxnRef": transaction.txn_ref,
                "vnp_Amount": amount or str(transaction.amount),
                "vnp_BankCode": transaction.bank_code or "",
                "vnp_PayDate": transaction.pay_date or "",
                "vnp_TransactionNo": transaction.transaction_no or "",
                "vnp_TransactionType": transaction_type,
                "vnp_TransactionStatus": transaction.status,
                "vnp_OrderInfo": transaction.order_info,
            }
        fields = vnpay.QUERYDR_RESPONSE if command == QUERYDR else vnpay.REFUND_RESPONSE
        answer["vnp_SecureHash"] = vnpay.sign_fields(answer, fields, self.secret)
        return answer


def result_params(transaction: GatewayTransaction) -> dict[str, str]:
    """The result a return URL and an IPN carry (unsigned)."""
    params = {
        "vnp_Amount": str(transaction.amount),
        "vnp_BankCode": transaction.bank_code or "",
        "vnp_BankTranNo": transaction.bank_tran_no or "",
        "vnp_CardType": transaction.card_type or "",
        "vnp_OrderInfo": transaction.order_info,
        "vnp_PayDate": transaction.pay_date or "",
        "vnp_ResponseCode": transaction.response_code or "",
        "vnp_TmnCode": transaction.tmn_code,
        "vnp_TransactionNo": transaction.transaction_no or "",
        "vnp_TransactionStatus": transaction.status,
        "vnp_TxnRef": transaction.txn_ref,
    }
    return {name: value for name, value in params.items() if value}


def _refund(transaction: GatewayTransaction, values: Mapping[str, str]) -> str:
    """Apply a refund to a locked transaction; its response code."""
    if transaction.status != vnpay.TransactionStatus.SUCCESS:
        return CODE_NOT_SUCCESSFUL
    amount = int(values["vnp_Amount"])
    remaining = transaction.amount - transaction.refunded_amount
    if amount > remaining or (values["vnp_TransactionType"] == REFUND_FULL and amount != remaining):
        return CODE_INVALID_REFUND_AMOUNT
    transaction.refunded_amount += amount
    if transaction.refunded_amount == transaction.amount:
        transaction.status = vnpay.TransactionStatus.REFUNDED
    return "00"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _positive_integer(value: str) -> bool:
    return value.isascii() and value.isdigit() and int(value) > 0


def _date(params: Mapping[str, str], name: str) -> datetime:
    try:
        return vnpay.parse_date(params[name])
    except ValueError:
        problem = f"{name}: không đúng định dạng yyyyMMddHHmmss"
        raise PaymentRefused(CODE_BAD_FORMAT, problem) from None


def _validate_pay(params: Mapping[str, str], expire_minutes: int) -> datetime:
    """Check a signed pay URL's parameters; the instant it expires."""
    missing = [name for name in PAY_REQUIRED if not params.get(name)]
    if missing:
        raise PaymentRefused(CODE_BAD_FORMAT, f"thiếu tham số {', '.join(missing)}")
    expected = {
        "vnp_Version": vnpay.VERSION,
        "vnp_Command": "pay",
        "vnp_CurrCode": "VND",
    }
    for name, value in expected.items():
        if params[name] != value:
            raise PaymentRefused(CODE_BAD_FORMAT, f"{name} phải là {value}")
    if params["vnp_Locale"] not in ("vn", "en"):
        raise PaymentRefused(CODE_BAD_FORMAT, "vnp_Locale phải là vn hoặc en")
    if not _positive_integer(params["vnp_Amount"]) or len(params["vnp_Amount"]) > 18:
        raise PaymentRefused(CODE_BAD_FORMAT, "vnp_Amount phải là số nguyên dương (VND x 100)")
    for name, limit in MAX_LENGTHS.items():
        if len(params[name]) > limit:
            raise PaymentRefused(CODE_BAD_FORMAT, f"{name} dài quá {limit} ký tự")
    url = urlsplit(params["vnp_ReturnUrl"])
    if url.scheme not in ("http", "https") or not url.netloc or len(params["vnp_ReturnUrl"]) > 1000:
        raise PaymentRefused(CODE_BAD_FORMAT, "vnp_ReturnUrl không phải một URL http(s)")
    if len(params.get("vnp_BankCode") or "") > 20:
        raise PaymentRefused(CODE_BAD_FORMAT, "vnp_BankCode dài quá 20 ký tự")
    created = _date(params, "vnp_CreateDate")
    if params.get("vnp_ExpireDate"):
        expires = _date(params, "vnp_ExpireDate")
        if expires <= created:
            raise PaymentRefused(CODE_BAD_FORMAT, "vnp_ExpireDate phải sau vnp_CreateDate")
    else:
        expires = created + timedelta(minutes=expire_minutes)
    return expires


def _validate_api(values: Mapping[str, str], command: str) -> str | None:
    """A format problem of a signed merchant-API request, or None."""
    if values["vnp_Version"] != vnpay.VERSION:
        return f"vnp_Version phải là {vnpay.VERSION}"
    if len(values["vnp_RequestId"]) > 64 or len(values["vnp_TxnRef"]) > 100:
        return "vnp_RequestId hoặc vnp_TxnRef quá dài"
    for name in ("vnp_TransactionDate", "vnp_CreateDate"):
        try:
            vnpay.parse_date(values[name])
        except ValueError:
            return f"{name}: không đúng định dạng yyyyMMddHHmmss"
    if command == REFUND:
        if values["vnp_TransactionType"] not in (REFUND_FULL, REFUND_PARTIAL):
            return "vnp_TransactionType phải là 02 (toàn phần) hoặc 03 (một phần)"
        if not _positive_integer(values["vnp_Amount"]) or len(values["vnp_Amount"]) > 18:
            return "vnp_Amount phải là số nguyên dương (VND x 100)"
    return None
