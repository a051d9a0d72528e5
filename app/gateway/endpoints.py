"""The gateway's HTTP surface: pay URL, payer simulation, merchant API, operations."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from app.core import vnpay
from app.gateway.errors import BadFaultHeader, PaymentRefused
from app.gateway.faults import FAULT_HEADER, Faults, FaultSyntaxError, merge, parse_faults
from app.gateway.metrics import GatewayMetrics
from app.gateway.pages import abandoned_page, payment_page
from app.gateway.service import CODE_BAD_FORMAT, GatewayService

router = APIRouter()

PAY_URL = "/paymentv2/vpcpay.html"
PAY = "/paymentv2/pay/{transaction_no}"
SIMULATE = "/api/simulate/{transaction_no}"
MERCHANT_API = "/merchant_webapi/api/transaction"
TRANSACTION_NO_HEADER = "X-Transaction-No"


async def _service(request: Request) -> GatewayService:
    service: GatewayService = request.app.state.service
    return service


ServiceDep = Annotated[GatewayService, Depends(_service)]


async def _header_faults(request: Request) -> Faults:
    """This request's own fault knobs, from its X-Gateway-Faults header."""
    try:
        return parse_faults(request.headers.get(FAULT_HEADER))
    except FaultSyntaxError as exc:
        raise BadFaultHeader(f"{FAULT_HEADER}: {exc}") from None


HeaderFaults = Annotated[Faults, Depends(_header_faults)]


class SimulateIn(BaseModel):
    card: str | None = None
    outcome: str | None = None


class SimulateOut(BaseModel):
    transaction_no: str
    response_code: str | None
    transaction_status: vnpay.TransactionStatus
    return_url: str | None


@router.get("/healthz", tags=["operations"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/metrics", response_class=Response, tags=["operations"])
async def metrics(request: Request) -> Response:
    registry: GatewayMetrics = request.app.state.metrics
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)


@router.get(PAY_URL, response_class=HTMLResponse, tags=["payer"])
async def pay_url(
    request: Request, service: ServiceDep, header_faults: HeaderFaults
) -> HTMLResponse:
    """The pay URL a merchant sends its payer to: validates, stores a pending transaction and
    shows the payment page with the test cards. `X-Gateway-Faults` sets this payment's faults."""
    items = request.query_params.multi_items()
    params = dict(items)
    if len(params) != len(items):
        raise PaymentRefused(CODE_BAD_FORMAT, "tham số bị lặp lại")
    transaction = await service.open(params, header_faults)
    await service.disturb(service.faults_of(transaction), may_fail=False)
    return HTMLResponse(
        payment_page(transaction),
        headers={TRANSACTION_NO_HEADER: transaction.transaction_no or ""},
    )


@router.post(PAY, response_class=HTMLResponse, tags=["payer"], status_code=302)
async def pay(
    transaction_no: str,
    service: ServiceDep,
    card: Annotated[str | None, Form(max_length=40)] = None,
    outcome: Annotated[str | None, Form(max_length=20)] = None,
) -> Response:
    """The payer's choice on the payment page (a test card or an outcome): 302 to the merchant's
    return URL with the signed result, after the IPN has been sent on its way."""
    result = await service.pay(transaction_no, card=card, outcome=outcome)
    if result.return_url is None:
        return HTMLResponse(abandoned_page(result.transaction))
    return RedirectResponse(result.return_url, status_code=302)


@router.post(SIMULATE, tags=["payer"], responses={409: {}, 404: {}, 502: {}, 504: {}})
async def simulate(transaction_no: str, body: SimulateIn, service: ServiceDep) -> SimulateOut:
    """The payer simulation for headless runs: the same as the payment page's forms, answered
    with JSON (the signed return URL) instead of a redirect."""
    result = await service.pay(transaction_no, card=body.card, outcome=body.outcome)
    return SimulateOut(
        transaction_no=transaction_no,
        response_code=result.response_code,
        transaction_status=result.transaction.status,
        return_url=result.return_url,
    )


@router.post(MERCHANT_API, tags=["merchant"])
async def merchant_api(
    request: Request, service: ServiceDep, header_faults: HeaderFaults
) -> JSONResponse:
    """`querydr` and `refund`, signed with the `|`-joined fields of the contract."""
    # The body first: a merchant that gives up during the latency then leaves a reply nobody
    # reads, not a read from a closed connection (ClientDisconnect, a traceback in the log).
    raw = await request.body()
    await service.disturb(merge(service.base_faults, header_faults))
    try:
        body: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or any(
        "\x00" in str(value) or "\x00" in str(key) for key, value in body.items()
    ):
        return JSONResponse(service.api_answer_bad_format(body))
    return JSONResponse(await service.merchant_api(body))
