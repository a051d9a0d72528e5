"""The gateway's ledger: its own declarative base and metadata.

The ledger is the mock gateway's private state, not part of the portal's schema: it lives in
its own database (`GATEWAY_DATABASE_URL`), the portal's Alembic never sees it (it is not on
`app.core.models.Base`), and the app creates its tables with `metadata.create_all` at start.
A mock that can be thrown away and recreated at will needs no migration history; should a column
change, delete the ledger file (or the tables) and start again.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.core.models import text_enum
from app.core.vnpay import TransactionStatus

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Delivery(StrEnum):
    """An IPN delivery's outcomes, as the ledger and the metrics record them: those of one
    attempt (the first two end the delivery), then those of a whole delivery."""

    CONFIRMED = "confirmed"  # RspCode 00
    ALREADY_CONFIRMED = "already_confirmed"  # RspCode 02
    REJECTED = "rejected"  # another RspCode
    BAD_RESPONSE = "bad_response"  # not JSON, or no RspCode
    HTTP_ERROR = "http_error"  # a status other than 200
    NETWORK_ERROR = "network_error"  # no answer at all (refused, reset, time-out)
    GAVE_UP = "gave_up"  # a delivery that ran out of attempts
    NEVER = "never"  # none sent (the ipn_never knob)


class GatewayBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class GatewayTransaction(GatewayBase):
    """One pay URL opened by a payer: pending (status 01) until paid, declined or cancelled."""

    __tablename__ = "gateway_transactions"
    __table_args__ = (UniqueConstraint("tmn_code", "txn_ref", "create_day"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    tmn_code: Mapped[str] = mapped_column(String(32))
    txn_ref: Mapped[str] = mapped_column(String(100))
    create_day: Mapped[str] = mapped_column(String(8))  # yyyyMMdd of vnp_CreateDate, GMT+7
    amount: Mapped[int] = mapped_column(BigInteger)  # VND x 100, as received
    order_info: Mapped[str] = mapped_column(String(255))
    order_type: Mapped[str] = mapped_column(String(100))
    return_url: Mapped[str] = mapped_column(String(1000))
    create_date: Mapped[str] = mapped_column(String(14))  # vnp_CreateDate as received
    expire_date: Mapped[str] = mapped_column(String(14))  # vnp_ExpireDate (or create + 15 min)
    expires_at: Mapped[datetime]
    locale: Mapped[str] = mapped_column(String(2))
    bank_code: Mapped[str | None] = mapped_column(String(20))
    ip: Mapped[str] = mapped_column(String(64))
    params_digest: Mapped[str] = mapped_column(String(64))  # identifies a repeated pay URL
    status: Mapped[TransactionStatus] = mapped_column(text_enum(TransactionStatus, 2))
    response_code: Mapped[str | None] = mapped_column(String(2))
    transaction_no: Mapped[str | None] = mapped_column(String(20), unique=True)
    bank_tran_no: Mapped[str | None] = mapped_column(String(40))
    card_type: Mapped[str | None] = mapped_column(String(10))
    pay_date: Mapped[str | None] = mapped_column(String(14))
    faults: Mapped[dict[str, Any]]
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime]


class GatewayIpnDelivery(GatewayBase):
    """One HTTP attempt at delivering a transaction's IPN to the merchant."""

    __tablename__ = "gateway_ipn_deliveries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("gateway_transactions.id"), index=True)
    copy: Mapped[int] = mapped_column(default=1)  # 2 for the duplicate of ipn_duplicate
    attempt: Mapped[int]
    at: Mapped[datetime]
    outcome: Mapped[Delivery] = mapped_column(text_enum(Delivery, 20))
    rsp_code: Mapped[str | None] = mapped_column(String(10))
    http_status: Mapped[int | None]


class GatewayApiRequest(GatewayBase):
    """A merchant-API request id, unique per merchant per day (a repeat is refused with 94)."""

    __tablename__ = "gateway_api_requests"
    __table_args__ = (UniqueConstraint("tmn_code", "request_id", "request_day"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    tmn_code: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[str] = mapped_column(String(64))
    request_day: Mapped[str] = mapped_column(String(8))
    command: Mapped[str] = mapped_column(String(16))
    response_code: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime]
