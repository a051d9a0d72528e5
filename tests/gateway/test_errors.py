"""The gateway's errors are domain errors, each with its HTTP status and contract code, rendered by
one handler: the payer's HTML page on the page routes, the JSON error body elsewhere."""

from __future__ import annotations

import pytest
from httpx import AsyncClient, Response

from app.core.config import Settings
from app.core.errors import DomainError
from app.core.guards import MAX_HEADER_BYTES
from app.gateway.cards import SUCCESS_CARD
from app.gateway.errors import (
    BadFaultHeader,
    GatewayError,
    InjectedError,
    InjectedTimeout,
    PaymentRefused,
    TransactionConflict,
    TransactionNotFound,
)
from app.gateway.main import create_gateway_app
from tests.gateway.conftest import NOW, GatewayFactory
from tests.gateway.support import MERCHANT_API, PAY_URL, open_payment, pay_params, signed


def _page_code(response: Response) -> str:
    assert response.headers["content-type"].startswith("text/html")
    start = response.text.index('<strong id="code">') + len('<strong id="code">')
    return response.text[start : start + 2]


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (PaymentRefused("03", "x"), 400, "payment_refused"),
        (TransactionNotFound("91", "x"), 404, "payment_refused"),
        (TransactionConflict("94", "x"), 409, "payment_refused"),
        (InjectedError(), 502, "gateway_fault"),
        (InjectedTimeout(), 504, "gateway_fault"),
        (BadFaultHeader("x"), 400, "bad_fault_header"),
    ],
)
def test_each_gateway_error_is_a_domain_error_with_its_status(
    error: GatewayError, status: int, code: str
) -> None:
    assert isinstance(error, DomainError)
    assert (error.status_code, error.code) == (status, code)


async def test_an_unknown_transaction_is_a_page_for_the_payer_and_json_for_a_program(
    client: AsyncClient,
) -> None:
    page = await client.post("/paymentv2/pay/99999999", data={"card": SUCCESS_CARD})
    api = await client.post("/api/simulate/99999999", json={"card": SUCCESS_CARD})

    assert (page.status_code, _page_code(page)) == (404, "91")
    assert api.status_code == 404
    assert api.json() == {
        "error": "payment_refused",
        "detail": "Không tìm thấy giao dịch",
        "field": None,
        "response_code": "91",
    }


async def test_a_bad_fault_header_says_so_on_the_page_and_in_json(client: AsyncClient) -> None:
    headers = {"X-Gateway-Faults": "nope=1"}
    page = await client.get(PAY_URL, params=signed(pay_params(NOW)), headers=headers)
    api = await client.post(MERCHANT_API, json={}, headers=headers)

    assert (page.status_code, _page_code(page)) == (400, "03")
    assert "X-Gateway-Faults: " in page.text
    assert api.status_code == 400
    assert api.json()["error"] == "bad_fault_header"
    assert api.json()["detail"].startswith("X-Gateway-Faults: ")


async def test_an_injected_fault_is_a_page_with_code_99_and_json_elsewhere(
    make_gateway: GatewayFactory,
) -> None:
    _, client = await make_gateway()
    number = await open_payment(client, pay_params(NOW), faults="error=1")

    page = await client.post(f"/paymentv2/pay/{number}", data={"card": SUCCESS_CARD})
    api = await client.post(f"/api/simulate/{number}", json={"card": SUCCESS_CARD})

    assert (page.status_code, _page_code(page)) == (502, "99")
    assert (api.status_code, api.json()["error"]) == (502, "gateway_fault")


async def test_oversized_headers_get_431_before_any_route(client: AsyncClient) -> None:
    response = await client.get(PAY_URL, headers={"X-Big": "x" * MAX_HEADER_BYTES})
    assert response.status_code == 431
    assert response.json()["error"] == "headers_too_large"


def test_demo_secrets_copied_into_shared_settings_are_refused(gateway_settings: Settings) -> None:
    shared = gateway_settings.model_copy(update={"deployment": "shared"})
    with pytest.raises(ValueError, match="the public demo value and DEPLOYMENT=shared"):
        create_gateway_app(shared)
