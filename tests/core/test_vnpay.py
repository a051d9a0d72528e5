"""The VNPay contract's signatures, checked against strings written out by hand."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core import vnpay

SECRET = "DEMOSECRETDEMOSECRETDEMOSECRET12"
PARAMS = {
    "vnp_Version": "2.1.0",
    "vnp_Command": "pay",
    "vnp_TmnCode": "PORTAL01",
    "vnp_Amount": 5000000,
    "vnp_CurrCode": "VND",
    "vnp_TxnRef": "000.00.05.H01-260303-0001-1",
    "vnp_OrderInfo": "Thanh toan le phi ho so: 50.000 VND",
    "vnp_OrderType": "other",
    "vnp_Locale": "vn",
    "vnp_ReturnUrl": "http://127.0.0.1:8000/api/v1/payments/vnpay/return",
    "vnp_IpAddr": "127.0.0.1",
    "vnp_CreateDate": "20260303090000",
    "vnp_BankCode": "",  # empty: left out of the signature
    "unrelated": "x",  # not vnp_*: left out
}
# Sorted by name, form-encoded (spaces as +, ':' and '/' escaped), empty and foreign left out.
CANONICAL = (
    "vnp_Amount=5000000&vnp_Command=pay&vnp_CreateDate=20260303090000&vnp_CurrCode=VND"
    "&vnp_IpAddr=127.0.0.1&vnp_Locale=vn"
    "&vnp_OrderInfo=Thanh+toan+le+phi+ho+so%3A+50.000+VND&vnp_OrderType=other"
    "&vnp_ReturnUrl=http%3A%2F%2F127.0.0.1%3A8000%2Fapi%2Fv1%2Fpayments%2Fvnpay%2Freturn"
    "&vnp_TmnCode=PORTAL01&vnp_TxnRef=000.00.05.H01-260303-0001-1&vnp_Version=2.1.0"
)


def hand_hmac(message: str) -> str:
    return hmac.new(SECRET.encode(), message.encode(), hashlib.sha512).hexdigest()


def test_the_signing_string_follows_the_contract() -> None:
    assert vnpay.signing_string(PARAMS) == CANONICAL
    assert vnpay.sign(PARAMS, SECRET) == hand_hmac(CANONICAL)


def test_a_signed_query_verifies_and_any_change_breaks_it() -> None:
    query = vnpay.signed_query(PARAMS, SECRET)
    received = dict(part.split("=", 1) for part in query.split("&"))
    signature = received["vnp_SecureHash"]
    params = PARAMS | {"vnp_SecureHash": signature, "vnp_SecureHashType": "HmacSHA512"}
    assert vnpay.verify(params, SECRET)
    assert vnpay.verify(params | {"vnp_SecureHash": signature.upper()}, SECRET)
    assert not vnpay.verify(params | {"vnp_Amount": 5000100}, SECRET)
    assert not vnpay.verify(params, "another-secret")
    assert not vnpay.verify(PARAMS, SECRET)  # no signature at all


def test_the_merchant_api_signs_fields_joined_with_pipes() -> None:
    request = {
        "vnp_RequestId": "r1",
        "vnp_Version": "2.1.0",
        "vnp_Command": "querydr",
        "vnp_TmnCode": "PORTAL01",
        "vnp_TxnRef": "T1",
        "vnp_TransactionDate": "20260303090000",
        "vnp_CreateDate": "20260303100000",
        "vnp_IpAddr": "127.0.0.1",
        "vnp_OrderInfo": "Tra cuu",
    }
    expected = hand_hmac(
        "r1|2.1.0|querydr|PORTAL01|T1|20260303090000|20260303100000|127.0.0.1|Tra cuu"
    )
    assert vnpay.sign_fields(request, vnpay.QUERYDR_REQUEST, SECRET) == expected
    assert vnpay.verify_fields(
        request | {"vnp_SecureHash": expected}, vnpay.QUERYDR_REQUEST, SECRET
    )
    # A missing field signs as empty, as the client libraries do.
    partial = {k: v for k, v in request.items() if k != "vnp_IpAddr"}
    assert vnpay.sign_fields(partial, vnpay.QUERYDR_REQUEST, SECRET) == hand_hmac(
        "r1|2.1.0|querydr|PORTAL01|T1|20260303090000|20260303100000||Tra cuu"
    )


def test_dates_are_gmt_plus_7() -> None:
    instant = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    assert vnpay.format_date(instant) == "20260303090000"
    assert vnpay.parse_date("20260303090000") == instant
    with pytest.raises(ValueError, match="yyyyMMddHHmmss"):
        vnpay.parse_date("2026-03-03")


@given(received=st.text(max_size=200))
def test_any_received_hash_is_a_verdict_never_an_error(received: str) -> None:
    """A vnp_SecureHash is whatever a client sent: non-ASCII or not hex, it fails to verify."""
    params = dict(PARAMS, vnp_SecureHash=received)
    fields = ("vnp_TxnRef", "vnp_Amount")
    genuine = vnpay.sign(PARAMS, SECRET)
    assert vnpay.verify(params, SECRET) is (received.lower() == genuine)
    assert vnpay.verify_fields(params, fields, SECRET) is (
        received.lower() == vnpay.sign_fields(params, fields, SECRET)
    )


@pytest.mark.parametrize("received", ["é", "é" * 128, "\u0661" * 128, "ǅ"])
def test_a_non_ascii_hash_does_not_verify(received: str) -> None:
    params = dict(PARAMS, vnp_SecureHash=received)
    assert vnpay.verify(params, SECRET) is False
    assert vnpay.verify_fields(params, ("vnp_TxnRef",), SECRET) is False
