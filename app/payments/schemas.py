from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from app.core.types import LocalDateTime
from app.payments.models import PaymentStatus, SettledBy


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    txn_ref: str
    amount: int  # VND
    status: PaymentStatus
    pay_url: str
    created_at: LocalDateTime
    expires_at: LocalDateTime
    settled_at: LocalDateTime | None
    settled_by: SettledBy | None
    response_code: str | None
    transaction_no: str | None
    refunded_at: LocalDateTime | None
