"""The gateway's errors: domain errors (app/core/errors.py), each with its HTTP status and the
contract's response code, and the one handler that renders them. A payer's browser gets the
HTML error page on the routes that serve pages; a program gets the JSON error body."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute

from app.core import vnpay
from app.core.errors import DomainError
from app.gateway.pages import error_page


class GatewayError(DomainError):
    """Anything the gateway refuses or fails on; `response_code` is shown on the payer's page."""

    response_code = vnpay.API_OTHER


class PaymentRefused(GatewayError):
    """A pay URL, a payment or a payer's choice the contract refuses, with its code."""

    code = "payment_refused"

    def __init__(self, response_code: str, detail: str) -> None:
        super().__init__(detail, response_code=response_code)
        self.response_code = response_code


class TransactionNotFound(PaymentRefused):
    status_code = 404


class TransactionConflict(PaymentRefused):
    """Already processed, or a TxnRef reused with other parameters."""

    status_code = 409


class GatewayFault(GatewayError):
    """An injected fault: answered with its status, and nothing changed."""

    code = "gateway_fault"
    message = "injected fault"

    def __init__(self) -> None:
        super().__init__(self.message)


class InjectedError(GatewayFault):
    status_code = 502
    message = "injected fault: gateway error"


class InjectedTimeout(GatewayFault):
    status_code = 504
    message = "injected fault: gateway time-out"


class BadFaultHeader(GatewayError):
    code = "bad_fault_header"
    response_code = vnpay.API_BAD_FORMAT


def _serves_pages(request: Request) -> bool:
    route = request.scope.get("route")
    return isinstance(route, APIRoute) and route.response_class is HTMLResponse


async def _gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    if _serves_pages(request):
        return HTMLResponse(error_page(exc.response_code, exc.detail), status_code=exc.status_code)
    return JSONResponse(exc.body(), status_code=exc.status_code)


def install_gateway_error_handler(app: FastAPI) -> None:
    """After `install_error_handlers`: the gateway's errors are rendered here, the others there."""
    app.add_exception_handler(GatewayError, _gateway_error)
