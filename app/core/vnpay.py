"""The public VNPay 2.1.0 contract, as both sides of it need it: the mock gateway
(`app/gateway`) and the portal's payments (`app/payments`).

Signing, as VNPay documents it and its client libraries do it:
- pay URL, return URL and IPN: the non-empty `vnp_*` parameters except `vnp_SecureHash` and
  `vnp_SecureHashType`, sorted by name, form-encoded (spaces as `+`), HMAC-SHA512 in hex;
- the merchant API (`querydr`, `refund`): HMAC-SHA512 of fixed fields joined with `|`.
Written here rather than taken from a library: no maintained Python package implements the
merchant side and a gateway both, and the two must agree byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import quote_plus

from app.core.calendar import VIETNAM_TZ

VERSION = "2.1.0"
DATE_FORMAT = "%Y%m%d%H%M%S"
HASH_FIELDS = ("vnp_SecureHash", "vnp_SecureHashType")

# The merchant API's signed fields, in the order they are joined.
QUERYDR_REQUEST = (
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_TransactionDate",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
)
REFUND_REQUEST = (
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TransactionType",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_TransactionNo",
    "vnp_TransactionDate",
    "vnp_CreateBy",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
)
QUERYDR_RESPONSE = (
    "vnp_ResponseId",
    "vnp_Command",
    "vnp_ResponseCode",
    "vnp_Message",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_PayDate",
    "vnp_TransactionNo",
    "vnp_TransactionType",
    "vnp_TransactionStatus",
    "vnp_OrderInfo",
    "vnp_PromotionCode",
    "vnp_PromotionAmount",
)
REFUND_RESPONSE = QUERYDR_RESPONSE[:13]

# vnp_ResponseCode of a payment (return URL and IPN).
PAYMENT_RESPONSES: dict[str, str] = {
    "00": "Giao dịch thành công",
    "07": "Trừ tiền thành công. Giao dịch bị nghi ngờ (lừa đảo, giao dịch bất thường)",
    "09": "Thẻ/Tài khoản chưa đăng ký dịch vụ InternetBanking",
    "10": "Xác thực thông tin thẻ/tài khoản không đúng quá 3 lần",
    "11": "Đã hết hạn chờ thanh toán",
    "24": "Khách hàng hủy giao dịch",
    "51": "Tài khoản không đủ số dư",
    "65": "Tài khoản đã vượt quá hạn mức giao dịch trong ngày",
    "75": "Ngân hàng thanh toán đang bảo trì",
    "99": "Lỗi khác",
}


class TransactionStatus(StrEnum):
    """vnp_TransactionStatus: a payment as the gateway's ledger holds it (stored as is)."""

    SUCCESS = "00"
    INCOMPLETE = "01"  # pending: the payer has not finished
    FAILED = "02"
    REFUNDED = "04"  # "giao dịch đảo"; full refunds report 04 as well here
    SUSPECTED = "07"


# vnp_ResponseCode of the merchant API (querydr, refund)
API_OK = "00"
API_MERCHANT_INVALID = "02"
API_BAD_FORMAT = "03"
API_NOT_FOUND = "91"
API_DUPLICATE_REQUEST = "94"
API_BAD_SIGNATURE = "97"
API_OTHER = "99"
# RspCode a merchant answers an IPN with
IPN_CONFIRMED = "00"
IPN_ORDER_NOT_FOUND = "01"
IPN_ALREADY_CONFIRMED = "02"
IPN_INVALID_AMOUNT = "04"
IPN_BAD_SIGNATURE = "97"
IPN_OTHER = "99"


def format_date(instant: datetime) -> str:
    """yyyyMMddHHmmss in GMT+7, as every vnp_* date."""
    return instant.astimezone(VIETNAM_TZ).strftime(DATE_FORMAT)


def parse_date(value: str) -> datetime:
    if len(value) != len("yyyyMMddHHmmss") or not value.isdigit():
        raise ValueError(f"{value!r} is not yyyyMMddHHmmss")
    return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=VIETNAM_TZ).astimezone(UTC)


def signing_string(params: Mapping[str, object]) -> str:
    """The query string that a pay URL, a return URL or an IPN is signed over."""
    fields = sorted(
        (name, str(value))
        for name, value in params.items()
        if name.startswith("vnp_") and name not in HASH_FIELDS and value not in (None, "")
    )
    return "&".join(f"{name}={quote_plus(value)}" for name, value in fields)


def _hmac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha512).hexdigest()


def sign(params: Mapping[str, object], secret: str) -> str:
    return _hmac(secret, signing_string(params))


def _signed_by(expected: str, values: Mapping[str, object]) -> bool:
    """Whether the values' vnp_SecureHash is `expected` (hex, either case). What a client sent
    may be any text: non-ASCII cannot be hex, and compare_digest refuses to compare it."""
    received = str(values.get("vnp_SecureHash") or "")
    return received.isascii() and bool(received) and hmac.compare_digest(expected, received.lower())


def verify(params: Mapping[str, object], secret: str) -> bool:
    """Whether `params` carry a valid vnp_SecureHash (hex, either case)."""
    return _signed_by(sign(params, secret), params)


def signed_query(params: Mapping[str, object], secret: str) -> str:
    """The parameters as a URL query string, with their signature appended."""
    return f"{signing_string(params)}&vnp_SecureHash={sign(params, secret)}"


def sign_fields(values: Mapping[str, object], fields: Sequence[str], secret: str) -> str:
    """The merchant API's signature: the fields' values joined with `|` (missing ones empty)."""
    joined = "|".join("" if values.get(f) is None else str(values.get(f)) for f in fields)
    return _hmac(secret, joined)


def verify_fields(values: Mapping[str, object], fields: Sequence[str], secret: str) -> bool:
    return _signed_by(sign_fields(values, fields, secret), values)
