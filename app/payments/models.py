"""The portal's record of each online payment attempt of a dossier."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, BigIntPK, UTCDateTime, text_enum


class PaymentStatus(StrEnum):
    """pending -> success | failed | cancelled | expired; success -> refunded."""

    PENDING = "pending"
    PAID = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"


class SettledBy(StrEnum):
    """Who recorded the outcome: the gateway's IPN, the portal's querydr, or the expiry."""

    IPN = "ipn"
    RECONCILIATION = "reconciliation"
    EXPIRY = "expiry"


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("dossier_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    txn_ref: Mapped[str] = mapped_column(String(100), unique=True)  # vnp_TxnRef
    amount: Mapped[int] = mapped_column(Integer)  # VND (the contract carries ×100)
    status: Mapped[PaymentStatus] = mapped_column(text_enum(PaymentStatus, 12), index=True)
    pay_url: Mapped[str] = mapped_column(String(2000))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    request_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The gateway's word on it, from the IPN or from reconciliation.
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    settled_by: Mapped[SettledBy | None] = mapped_column(text_enum(SettledBy, 16), default=None)
    response_code: Mapped[str | None] = mapped_column(String(4), default=None)
    transaction_no: Mapped[str | None] = mapped_column(String(40), default=None)
    bank_code: Mapped[str | None] = mapped_column(String(40), default=None)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
