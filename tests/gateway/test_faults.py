"""Each fault knob end to end (probability 1), probability 0, the header, and parsing."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.core import vnpay
from app.core.config import Settings
from app.gateway.cards import SUCCESS_CARD
from app.gateway.faults import Fault, FaultRoller, FaultSyntaxError, merge, parse_faults
from app.gateway.main import create_gateway_app
from tests.gateway.conftest import NOW, GatewayFactory
from tests.gateway.support import (
    MERCHANT_API,
    PAY_URL,
    SECRET,
    Merchant,
    RecordingSleep,
    drain,
    ledger_rows,
    open_payment,
    pay_params,
    query_of,
    querydr_body,
    signed,
)

ALL_KNOBS_OFF = (
    "latency=0:800,decline=0:51,ipn_late=0:3,ipn_duplicate=0,ipn_before_return=0,"
    "ipn_never=0,error=0,timeout=0:30"
)


async def _pay(client: AsyncClient, transaction_no: str, card: str = SUCCESS_CARD) -> str:
    """Pay and return the response code of the redirect."""
    response = await client.post(f"/paymentv2/pay/{transaction_no}", data={"card": card})
    assert response.status_code == 302, response.text
    return query_of(response.headers["location"])["vnp_ResponseCode"]


async def test_latency_delays_the_pay_page_and_the_payment(
    client: AsyncClient, sleeps: RecordingSleep
) -> None:
    transaction_no = await open_payment(client, pay_params(NOW), faults="latency=1:800")
    assert sleeps.calls == [0.8]
    assert await _pay(client, transaction_no) == "00"
    assert sleeps.calls == [0.8, 0.8]


async def test_decline_turns_a_success_into_its_code(
    app: FastAPI, client: AsyncClient, merchant: Merchant
) -> None:
    transaction_no = await open_payment(client, pay_params(NOW), faults="decline=1:51")
    assert await _pay(client, transaction_no) == "51"
    await drain(app)
    assert merchant.ipns[0]["vnp_TransactionStatus"] == "02"
    transaction, _ = await ledger_rows(app, transaction_no)
    assert transaction.faults == {"decline": {"p": 1.0, "value": "51"}}


async def test_decline_leaves_a_declined_card_alone(client: AsyncClient) -> None:
    transaction_no = await open_payment(client, pay_params(NOW), faults="decline=1:51")
    assert await _pay(client, transaction_no, "9704000000000024") == "24"


async def test_ipn_late_waits_before_delivering(
    app: FastAPI, client: AsyncClient, merchant: Merchant, sleeps: RecordingSleep
) -> None:
    transaction_no = await open_payment(client, pay_params(NOW), faults="ipn_late=1:3")
    await _pay(client, transaction_no)
    await drain(app)
    assert sleeps.calls == [3.0]
    assert len(merchant.ipns) == 1


async def test_ipn_duplicate_delivers_twice(
    app: FastAPI, client: AsyncClient, merchant: Merchant
) -> None:
    transaction_no = await open_payment(client, pay_params(NOW), faults="ipn_duplicate=1")
    await _pay(client, transaction_no)
    await drain(app)
    assert len(merchant.ipns) == 2
    assert merchant.ipns[0] == merchant.ipns[1]
    _, deliveries = await ledger_rows(app, transaction_no)
    assert sorted((d.copy, d.attempt) for d in deliveries) == [(1, 1), (2, 1)]


async def test_ipn_before_return_completes_the_ipn_before_the_redirect(
    client: AsyncClient, merchant: Merchant
) -> None:
    merchant.answer_with("99", "00")  # a retry included: the whole delivery comes first
    transaction_no = await open_payment(client, pay_params(NOW), faults="ipn_before_return=1")
    response = await client.post(f"/paymentv2/pay/{transaction_no}", data={"card": SUCCESS_CARD})
    assert response.status_code == 302
    assert [ipn["vnp_ResponseCode"] for ipn in merchant.ipns] == ["00", "00"]
    assert merchant.ipns[-1] == query_of(response.headers["location"])


async def test_ipn_never_sends_none(app: FastAPI, client: AsyncClient, merchant: Merchant) -> None:
    params = pay_params(NOW)
    transaction_no = await open_payment(client, params, faults="ipn_never=1")
    assert await _pay(client, transaction_no) == "00"
    await drain(app)
    assert merchant.ipns == []
    _, deliveries = await ledger_rows(app, transaction_no)
    assert deliveries == []
    # The merchant reconciles: querydr knows the payment succeeded.
    answer = (await client.post(MERCHANT_API, json=querydr_body(params, NOW))).json()
    assert answer["vnp_TransactionStatus"] == "00"


async def test_error_answers_502_and_changes_nothing(
    app: FastAPI, client: AsyncClient, merchant: Merchant
) -> None:
    transaction_no = await open_payment(client, pay_params(NOW), faults="error=1")
    response = await client.post(f"/paymentv2/pay/{transaction_no}", data={"card": SUCCESS_CARD})
    assert response.status_code == 502
    response = await client.post(f"/api/simulate/{transaction_no}", json={"outcome": "success"})
    assert response.status_code == 502
    await drain(app)
    assert merchant.ipns == []
    transaction, _ = await ledger_rows(app, transaction_no)
    assert (transaction.status, transaction.response_code) == ("01", None)


async def test_timeout_sleeps_its_value_then_answers_504(
    app: FastAPI, client: AsyncClient, sleeps: RecordingSleep
) -> None:
    transaction_no = await open_payment(client, pay_params(NOW), faults="timeout=1:30")
    response = await client.post(f"/paymentv2/pay/{transaction_no}", data={"card": SUCCESS_CARD})
    assert response.status_code == 504
    assert sleeps.calls == [30.0]
    transaction, _ = await ledger_rows(app, transaction_no)
    assert transaction.status == "01"


async def test_timeout_is_bounded_by_the_max_setting(
    make_gateway: GatewayFactory, sleeps: RecordingSleep
) -> None:
    _, client = await make_gateway(gateway_timeout_max_seconds=10)
    transaction_no = await open_payment(client, pay_params(NOW), faults="timeout=1:3600")
    await client.post(f"/api/simulate/{transaction_no}", json={"outcome": "success"})
    assert sleeps.calls == [10.0]


async def test_faults_on_the_merchant_api(client: AsyncClient, sleeps: RecordingSleep) -> None:
    params = pay_params(NOW)
    await open_payment(client, params)
    body = querydr_body(params, NOW)
    response = await client.post(MERCHANT_API, json=body, headers={"X-Gateway-Faults": "error=1"})
    assert response.status_code == 502
    response = await client.post(
        MERCHANT_API, json=body, headers={"X-Gateway-Faults": "latency=1:250"}
    )
    assert response.json()["vnp_ResponseCode"] == "00"  # the 502 did not use the request id
    assert sleeps.calls == [0.25]


async def test_probability_zero_changes_nothing(
    make_gateway: GatewayFactory, merchant: Merchant, sleeps: RecordingSleep
) -> None:
    app, client = await make_gateway(gateway_faults=ALL_KNOBS_OFF)
    transaction_no = await open_payment(client, pay_params(NOW), faults=ALL_KNOBS_OFF)
    assert await _pay(client, transaction_no) == "00"
    await drain(app)
    assert sleeps.calls == []
    assert len(merchant.ipns) == 1


async def test_settings_apply_and_the_header_overrides_them(
    make_gateway: GatewayFactory,
) -> None:
    _, client = await make_gateway(gateway_faults="decline=1:65")
    declined = await open_payment(client, pay_params(NOW))
    assert await _pay(client, declined) == "65"
    overridden = await open_payment(client, pay_params(NOW), faults="decline=0")
    assert await _pay(client, overridden) == "00"
    other_code = await open_payment(client, pay_params(NOW), faults="decline=1:75")
    assert await _pay(client, other_code) == "75"


async def test_a_bad_header_is_refused_with_400(client: AsyncClient) -> None:
    for header in ("explode=1", "latency=1.5:100", "decline=1:00", "ipn_never", "latency=x"):
        response = await client.get(
            PAY_URL, params=signed(pay_params(NOW)), headers={"X-Gateway-Faults": header}
        )
        assert response.status_code == 400, header
        assert "X-Gateway-Faults" in response.text
    response = await client.post(MERCHANT_API, json={}, headers={"X-Gateway-Faults": "nope=1"})
    assert response.status_code == 400


def test_bad_settings_fail_at_start_up(gateway_settings: Settings) -> None:
    with pytest.raises(FaultSyntaxError, match="unknown fault knob"):
        create_gateway_app(gateway_settings.model_copy(update={"gateway_faults": "boom=1"}))
    with pytest.raises(FaultSyntaxError, match="outside"):
        create_gateway_app(gateway_settings.model_copy(update={"gateway_faults": "error=2"}))


def test_parsing() -> None:
    assert parse_faults("") == {}
    assert parse_faults(
        " latency=0.5:800, decline=0.2:51,ipn_late=1:3,ipn_duplicate=0.5,"
        "ipn_before_return=1,ipn_never=0.1,error=0.05,timeout=0.01:30"
    ) == {
        "latency": Fault(0.5, "800"),
        "decline": Fault(0.2, "51"),
        "ipn_late": Fault(1.0, "3"),
        "ipn_duplicate": Fault(0.5),
        "ipn_before_return": Fault(1.0),
        "ipn_never": Fault(0.1),
        "error": Fault(0.05),
        "timeout": Fault(0.01, "30"),
    }
    assert parse_faults("latency=1,decline=1,timeout=1") == {
        "latency": Fault(1.0, "500"),
        "decline": Fault(1.0, "51"),
        "timeout": Fault(1.0, "30"),
    }
    for bad in ("latency=-0.1", "error=1:5", "ipn_late=1:-3", "decline=1:12", "x=1", "latency"):
        with pytest.raises(FaultSyntaxError):
            parse_faults(bad)
    assert merge(parse_faults("error=1,latency=1"), parse_faults("error=0")) == {
        "error": Fault(0.0),
        "latency": Fault(1.0, "500"),
    }


def test_rolls_are_reproducible_for_a_seed() -> None:
    faults = parse_faults("error=0.5")

    def rolls(seed: int) -> list[bool]:
        roller = FaultRoller(seed)
        return [roller.fires(faults, "error") is not None for _ in range(50)]

    assert rolls(7) == rolls(7)
    assert 0 < sum(rolls(7)) < 50
    assert rolls(7) != rolls(8)


async def test_return_and_ipn_signatures_survive_faults(
    app: FastAPI, client: AsyncClient, merchant: Merchant
) -> None:
    transaction_no = await open_payment(
        client, pay_params(NOW), faults="ipn_duplicate=1,ipn_late=1:1,decline=1:07"
    )
    assert await _pay(client, transaction_no) == "07"
    await drain(app)
    assert all(vnpay.verify(ipn, SECRET) for ipn in merchant.ipns)
    assert {ipn["vnp_TransactionStatus"] for ipn in merchant.ipns} == {"07"}
