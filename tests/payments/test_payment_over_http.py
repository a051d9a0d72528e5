"""A whole payment over real HTTP: the portal and the mock gateway each served by uvicorn on a
loopback port, the payer and the IPN crossing the network stack between them."""

from __future__ import annotations

from pathlib import Path

import httpx

from app.core.config import Settings
from app.gateway.main import create_gateway_app
from app.main import create_app
from tests.payments.test_payments_api import SUCCESS_CARD
from tests.support.factories import dossier_with_fees_due
from tests.support.servers import free_port, served


async def test_a_whole_payment_between_two_running_servers(
    settings: Settings, tmp_path: Path
) -> None:
    portal_port, gateway_port = free_port(), free_port()
    portal_url = f"http://127.0.0.1:{portal_port}"
    shared = settings.model_copy(
        update={
            "public_url": portal_url,
            "vnpay_gateway_url": f"http://127.0.0.1:{gateway_port}",
            "vnpay_ipn_url": f"{portal_url}/api/v1/payments/vnpay/ipn",
            "gateway_database_url": f"sqlite:///{tmp_path / 'gateway.db'}",
            "payment_reconcile_interval_seconds": 0,
        }
    )
    gateway_app = create_gateway_app(shared)
    async with (
        served(create_app(shared), portal_port),
        served(gateway_app, gateway_port),
        httpx.AsyncClient(base_url=portal_url, timeout=10) as portal,
        httpx.AsyncClient(timeout=10, follow_redirects=False) as browser,
    ):
        citizen, dossier, _, _ = await dossier_with_fees_due(portal, shared)
        payment = (
            await portal.post(
                f"/api/v1/dossiers/{dossier['code']}/payments", headers=citizen.headers
            )
        ).json()

        page = await browser.get(payment["pay_url"])
        assert page.status_code == 200, page.text
        paid = await browser.post(
            f"{shared.vnpay_gateway_url}/paymentv2/pay/{page.headers['X-Transaction-No']}",
            data={"card": SUCCESS_CARD},
        )
        assert paid.status_code == 302
        await gateway_app.state.ipn.drain()
        landed = await browser.get(paid.headers["location"])

        assert landed.json()["verified"] is True
        assert landed.json()["status"] == "success"
        state = await portal.get(f"/api/v1/dossiers/{dossier['code']}", headers=citizen.headers)
        assert (state.json()["status"], state.json()["paid_online"]) == (4, 1)
