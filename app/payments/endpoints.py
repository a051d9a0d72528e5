"""HTTP for payments: the payer's routes, and the gateway's IPN and return URL, which answer in
the VNPay contract's own shapes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from app.accounts.dependencies import CurrentAccount, CurrentAccountRecord
from app.core.idempotency import IdempotencyKey, answer_replay
from app.payments.schemas import PaymentOut
from app.services import PaymentServiceDep, ReadPaymentServiceDep

router = APIRouter(prefix="/api/v1", tags=["payments"])


@router.post(
    "/dossiers/{code}/payments",
    response_model=PaymentOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "replayed: the payment first created with this key"}},
)
async def create_payment(
    code: str,
    request: Request,
    owner: CurrentAccountRecord,
    service: PaymentServiceDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PaymentOut:
    """Pay the fees of a dossier whose fees were requested (status 6): returns the pay URL,
    signed for the gateway."""
    client_ip = request.client.host if request.client else "127.0.0.1"
    payment, created = await service.create(owner, code, idempotency_key, client_ip)
    answer_replay(response, created)
    return PaymentOut.model_validate(payment)


@router.get("/dossiers/{code}/payments", response_model=list[PaymentOut])
async def dossier_payments(
    code: str, principal: CurrentAccount, service: ReadPaymentServiceDep
) -> list[PaymentOut]:
    payments = await service.of_dossier(principal.account_id, code)
    return [PaymentOut.model_validate(p) for p in payments]


@router.get("/payments/vnpay/ipn")
async def vnpay_ipn(request: Request, service: PaymentServiceDep) -> dict[str, str]:
    """The gateway's notification: `{RspCode, Message}`, 00 once per payment, 02 after."""
    return await service.ipn(dict(request.query_params))


@router.get("/payments/vnpay/return")
async def vnpay_return(request: Request, service: ReadPaymentServiceDep) -> dict[str, Any]:
    """Where the payer's browser lands: shows the outcome, confirms nothing."""
    return await service.returned(dict(request.query_params))
