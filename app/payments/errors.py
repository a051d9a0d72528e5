"""The payments package's domain errors (rendered by app/core/errors.py's one handler)."""

from __future__ import annotations

from app.core.errors import Conflict, DomainError


class NoFeesDue(Conflict):
    code = "no_fees_due"


class PaymentInProgress(Conflict):
    code = "payment_in_progress"


class AlreadyPaid(Conflict):
    code = "already_paid"


class GatewayUnavailable(DomainError):
    """No trustworthy answer from the gateway: network failure, time-out, 5xx, or an answer
    whose signature is wrong. The reconciler counts it and tries again on its next pass."""

    status_code = 502
    code = "gateway_unavailable"
