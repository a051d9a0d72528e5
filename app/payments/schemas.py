from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.core.types import LocalDateTime


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    txn_ref: str
    amount: int  # VND
    status: Literal["pending", "success", "failed", "cancelled", "expired", "refunded"]
    pay_url: str
    created_at: LocalDateTime
    expires_at: LocalDateTime
    settled_at: LocalDateTime | None
    settled_by: str | None
    response_code: str | None
    transaction_no: str | None
    refunded_at: LocalDateTime | None
