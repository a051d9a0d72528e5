"""Reconciliation against the real mock gateway: a pass that waits on a slow gateway (its own
`latency` knob, real sleeps) blocks no writer, and the periodic task of a serving portal runs on
its interval, outlives a gateway that is down, broken or hanging, and stops with the app."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
from httpx import AsyncBaseTransport

from app.cli import _reconcile
from app.core.calendar import calendar_from_settings
from app.core.config import Settings
from app.gateway.main import create_gateway_app
from app.main import document_store_from_settings
from app.payments.gateway_client import GatewayClient, gateway_http_client
from app.payments.reconciler import reconcile_once, start_reconciler
from app.services import Services
from tests.payments.support import Apps, paired
from tests.payments.test_payments_api import IPN_PATH, PAY_PATH, SUCCESS_CARD, signed_ipn
from tests.support.clock import ManualClock
from tests.support.factories import (
    Citizen,
    dossier_with_fees_due,
    fee_bearing_pair,
    login,
    serve,
    submit,
)
from tests.support.servers import free_port, served

T = TypeVar("T")

GATEWAY_LATENCY_S = 1.0  # each querydr answers this late
# A writer that waits on nothing takes well under this; one queued behind a pass of three
# payments waited 2.8-3.0 s before the pass stopped holding its transaction across the calls.
UNBLOCKED_S = 1.0
INTERVAL_S = 0.05  # the periodic task's interval in these tests
PATIENCE_S = 10.0  # how long a test waits for the periodic task to do something
RECONCILER = "app.payments.reconciler"


@dataclass
class Due:
    citizen: Citizen
    code: str
    txn_ref: str
    amount: int


async def fees_due(apps: Apps, *, pay: bool) -> Due:
    """A dossier with fees due and a pending payment; paid at the gateway with its IPN lost when
    `pay`, else never opened there."""
    citizen, dossier, _, _ = await dossier_with_fees_due(apps.portal, apps.settings)
    created = await apps.portal.post(PAY_PATH.format(code=dossier["code"]), headers=citizen.headers)
    assert created.status_code == 201, created.text
    payment: dict[str, Any] = created.json()
    if pay:
        url = urlsplit(payment["pay_url"])
        # This payment's page and payment are quick and send no IPN; the merchant API stays as
        # the gateway's settings make it.
        page = await apps.gateway.get(
            f"{url.path}?{url.query}", headers={"X-Gateway-Faults": "latency=0,ipn_never=1"}
        )
        assert page.status_code == 200, page.text
        paid = await apps.gateway.post(
            f"/api/simulate/{page.headers['X-Transaction-No']}", json={"card": SUCCESS_CARD}
        )
        assert paid.status_code == 200, paid.text
    return Due(citizen, dossier["code"], payment["txn_ref"], payment["amount"])


async def payment_of(apps: Apps, due: Due) -> dict[str, Any]:
    response = await apps.portal.get(PAY_PATH.format(code=due.code), headers=due.citizen.headers)
    (only,) = response.json()
    assert isinstance(only, dict)
    return only


async def status_of(apps: Apps, due: Due) -> str:
    status: str = (await payment_of(apps, due))["status"]
    return status


async def gateway_events(apps: Apps, due: Due) -> list[tuple[int, int]]:
    response = await apps.portal.get(
        f"/api/v1/dossiers/{due.code}/events", headers=due.citizen.headers
    )
    return [(e["from_status"], e["to_status"]) for e in response.json() if e["actor"] == "vnpay"]


async def timed(awaitable: Awaitable[T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = await awaitable
    return time.perf_counter() - started, result


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.perf_counter() + PATIENCE_S
    while not await check():
        assert time.perf_counter() < deadline, f"not within {PATIENCE_S} s: {what}"
        await asyncio.sleep(INTERVAL_S)


def passes_logged(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(1 for r in caplog.records if r.name == RECONCILER and text in r.getMessage())


# -- one pass against a slow gateway -----------------------------------------------------------


@pytest.fixture
async def slow(settings: Settings, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Apps]:
    async with paired(
        settings,
        clock,
        tmp_path,
        gateway_faults=f"latency=1:{int(GATEWAY_LATENCY_S * 1000)}",
        payment_reconcile_after_minutes=0,
        payment_reconcile_interval_seconds=0,  # passes only when the test runs one
    ) as apps:
        yield apps


async def test_writers_are_not_blocked_while_a_pass_waits_on_a_slow_gateway(slow: Apps) -> None:
    lost_ipn = await fees_due(slow, pay=True)  # settled by the pass
    raced = await fees_due(slow, pay=True)  # its IPN lands while the pass asks about the first
    unopened = await fees_due(slow, pay=False)  # the gateway never saw it: still pending
    procedure, agency = await fee_bearing_pair(slow.portal)
    newcomer = await login(slow.portal)
    ipn = signed_ipn(slow.settings, raced.txn_ref, raced.amount)

    reconciling = asyncio.create_task(timed(reconcile_once(slow.services)))
    await asyncio.sleep(GATEWAY_LATENCY_S / 4)  # the pass is waiting on its first querydr
    (ipn_wait, answer), (submit_wait, _) = await asyncio.gather(
        timed(slow.portal.get(IPN_PATH, params=ipn)),
        timed(submit(slow.portal, newcomer, procedure["code"], agency["code"])),
    )
    pass_time, report = await reconciling

    assert answer.json()["RspCode"] == "00"
    assert ipn_wait < UNBLOCKED_S, f"the IPN waited {ipn_wait:.2f} s on a {pass_time:.2f} s pass"
    assert submit_wait < UNBLOCKED_S, f"a submission waited {submit_wait:.2f} s"
    assert pass_time >= 3 * GATEWAY_LATENCY_S  # the gateway was slow indeed
    assert report == {"confirmed": 1, "already_settled": 1, "still_pending": 1}
    assert (await payment_of(slow, lost_ipn))["settled_by"] == "reconciliation"
    settled = await payment_of(slow, raced)
    assert (settled["status"], settled["settled_by"]) == ("success", "ipn")
    assert await gateway_events(slow, raced) == [(6, 4)]  # confirmed once
    assert (await payment_of(slow, unopened))["status"] == "pending"


# -- the periodic task -------------------------------------------------------------------------


class Switch(AsyncBaseTransport):
    """The portal's way to the real gateway, which a test can cut (connection refused) or break
    (an error no HTTP client expects)."""

    def __init__(self, to_gateway: AsyncBaseTransport) -> None:
        self.to_gateway = to_gateway
        self.state = "up"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.state == "down":
            raise httpx.ConnectError("connection refused", request=request)
        if self.state == "broken":
            raise RuntimeError("the gateway's answer broke something")
        return await self.to_gateway.handle_async_request(request)


async def test_the_periodic_pass_runs_on_its_interval(
    settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    async with paired(
        settings,
        clock,
        tmp_path,
        payment_reconcile_after_minutes=0,
        payment_reconcile_interval_seconds=INTERVAL_S,
    ) as apps:
        for _ in range(2):  # each settled by a later pass than the one before
            due = await fees_due(apps, pay=True)

            async def settled(due: Due = due) -> bool:
                return await status_of(apps, due) == "success"

            await eventually(settled, f"the pass settles {due.txn_ref}")
            assert (await payment_of(apps, due))["settled_by"] == "reconciliation"
            assert await gateway_events(apps, due) == [(6, 4)]


async def test_the_periodic_pass_carries_on_past_a_gateway_down_or_broken(
    settings: Settings, clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=RECONCILER)
    switches: list[Switch] = []

    def cut(transport: AsyncBaseTransport) -> AsyncBaseTransport:
        switches.append(Switch(transport))
        return switches[0]

    async with paired(
        settings,
        clock,
        tmp_path,
        to_gateway=cut,
        payment_reconcile_after_minutes=0,
        payment_reconcile_interval_seconds=INTERVAL_S,
    ) as apps:
        (switch,) = switches
        switch.state = "down"
        due = await fees_due(apps, pay=True)  # the payer reaches the gateway; the portal not

        async def unreachable_twice() -> bool:
            return passes_logged(caplog, "'unreachable': 1") >= 2

        await eventually(unreachable_twice, "two passes find the gateway unreachable")
        switch.state = "broken"

        async def failed_twice() -> bool:
            return passes_logged(caplog, "reconciliation pass failed") >= 2

        await eventually(failed_twice, "two passes fail")
        assert (await payment_of(apps, due))["status"] == "pending"
        switch.state = "up"

        async def settled() -> bool:
            return await status_of(apps, due) == "success"

        await eventually(settled, "a pass settles the payment once the gateway is back")
        assert not apps.portal_app.state.reconciler.done()


async def test_a_pass_gives_up_on_a_hanging_gateway_and_the_next_one_runs(
    settings: Settings, clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Over real HTTP: the client's time-out only applies on a real connection."""
    caplog.set_level(logging.INFO, logger=RECONCILER)
    port = free_port()
    hanging = settings.model_copy(
        update={
            "vnpay_gateway_url": f"http://127.0.0.1:{port}",
            "gateway_database_url": f"sqlite:///{tmp_path / 'gateway.db'}",
            # Longer than the client waits; short enough for the server to stop soon after.
            "gateway_faults": "latency=1:1500",
            "payment_reconcile_after_minutes": 0,
            "payment_reconcile_interval_seconds": INTERVAL_S,
        }
    )
    async with (
        served(create_gateway_app(hanging), port),
        paired(settings, clock, tmp_path / "pair") as apps,
        gateway_http_client(timeout=0.2) as http,
    ):
        await fees_due(apps, pay=False)  # one pending payment to ask about
        services = Services(
            settings=hanging,
            database=apps.services.database,
            calendar=calendar_from_settings(hanging),
            clock=apps.services.clock,
            document_store=document_store_from_settings(hanging),
            gateway=GatewayClient(hanging, http),
            catalogue_cache=apps.services.catalogue_cache,
        )
        task = start_reconciler(services)
        assert task is not None
        try:

            async def timed_out_twice() -> bool:
                return passes_logged(caplog, "'unreachable': 1") >= 2

            await eventually(timed_out_twice, "two passes time out")
            assert passes_logged(caplog, "ReadTimeout") >= 2
        finally:
            task.cancel()
        stopping, _ = await timed(asyncio.gather(task, return_exceptions=True))
        assert task.cancelled()
        assert stopping < UNBLOCKED_S


async def test_the_periodic_task_stops_with_the_app_even_mid_pass(
    settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    async with paired(
        settings,
        clock,
        tmp_path,
        gateway_faults="latency=1:30000",  # every querydr hangs 30 s
        payment_reconcile_after_minutes=0,
        payment_reconcile_interval_seconds=INTERVAL_S,
    ) as apps:
        task = apps.portal_app.state.reconciler
        due = await fees_due(apps, pay=False)
        await asyncio.sleep(10 * INTERVAL_S)  # a pass is waiting on the gateway by now
        assert not task.done()
        stopping = time.perf_counter()
    stopped_in = time.perf_counter() - stopping

    assert task.cancelled()
    assert stopped_in < UNBLOCKED_S, f"the app took {stopped_in:.2f} s to stop"
    assert due.txn_ref  # left pending: a pass cut short settles nothing


# -- portalsim reconcile -----------------------------------------------------------------------


async def test_portalsim_reconcile_asks_only_about_payments_pending_long_enough(
    settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    """The README's faults block printed `{}`: its payment was younger than
    PAYMENT_RECONCILE_AFTER_MINUTES (5). `--after-minutes 0` is that setting at 0."""
    port = free_port()
    shared = settings.model_copy(
        update={
            "vnpay_gateway_url": f"http://127.0.0.1:{port}",
            "gateway_database_url": f"sqlite:///{tmp_path / 'gateway.db'}",
            "payment_reconcile_interval_seconds": 0,
        }
    )
    gateway_app = create_gateway_app(shared)
    async with (
        served(gateway_app, port),
        serve(shared, clock) as (portal_app, portal),
        httpx.AsyncClient(base_url=shared.vnpay_gateway_url, timeout=10) as gateway,
    ):
        apps = Apps(portal_app, portal, gateway_app, gateway, shared)
        due = await fees_due(apps, pay=True)

        assert await _reconcile(shared) == {}  # 5 minutes have not passed
        now = shared.model_copy(update={"payment_reconcile_after_minutes": 0})
        assert await _reconcile(now) == {"confirmed": 1}
        assert (await payment_of(apps, due))["settled_by"] == "reconciliation"
        assert await _reconcile(now) == {}
