"""The reviewers' dashboard in a real headless Chromium, served for real on loopback over the
hand-built dossiers: it loads with no request to another host and no console error, shows the
numbers the API gives, and its ranking and filter lead to the province's page."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from httpx import AsyncClient

from app.core.config import Settings
from app.indicators.dashboard import decimal
from app.main import create_app
from tests.support.browser import visit
from tests.support.clock import ManualClock
from tests.support.indicators import NOW, Q1, build_dossiers
from tests.support.servers import free_port, served


def _shown(indicator: dict[str, Any]) -> str:
    if indicator["value"] is None:
        return "—"
    if indicator["unit"] == "hours":
        return f"{decimal(indicator['value'])} giờ"
    return f"{decimal(indicator['value'] * 100)} %"


def _read(url: str, province: int) -> dict[str, Any]:
    """What the browser shows on the national page, then on the province's page reached by
    its ranking link, then after the filter form asks for one month by day."""
    with visit(url) as seen:
        page = seen.page
        national = {
            "total": page.locator("#total-score").inner_text(),
            "ranking": page.locator("#ranking tbody tr").count(),
        }
        page.locator(f'#ranking tr[data-code="{province}"] a').click()
        page.wait_for_selector("#scope-name")
        province_page = {
            "name": page.locator("#scope-name").inner_text(),
            "total": page.locator("#total-score").inner_text(),
            "values": {
                row.get_attribute("data-indicator"): row.locator(
                    '[data-field="value"]'
                ).inner_text()
                for row in page.locator("#indicators tbody tr").all()
            },
            "fractions": {
                row.get_attribute("data-indicator"): (
                    row.locator('[data-field="numerator"]').inner_text(),
                    row.locator('[data-field="denominator"]').inner_text(),
                )
                for row in page.locator("#indicators tbody tr").all()
            },
            "online_bars": page.locator("#online-chart rect.bar").count(),
        }
        page.fill('input[name="from"]', "2026-01-01")
        page.fill('input[name="to"]', "2026-01-31")
        page.select_option('select[name="step"]', "day")
        page.click('button[type="submit"]')
        page.wait_for_load_state("load")
        filtered = {
            "url": page.url,
            "period": page.locator("#period").inner_text(),
            "on_time_bars": page.locator("#on-time-chart rect.bar").count(),
        }
        return {
            "national": national,
            "province": province_page,
            "filtered": filtered,
            "requests": seen.requests,
            "console_errors": seen.console_errors,
            "page_errors": seen.page_errors,
        }


@pytest.fixture
async def province(settings: Settings, client: AsyncClient) -> int:
    """The province of the hand-built dossiers' first agency."""
    return (await build_dossiers(settings, client)).province


async def test_the_dashboard_shows_the_apis_numbers_offline(
    settings: Settings, province: int
) -> None:
    app = create_app(settings)
    app.state.clock = ManualClock(NOW)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with served(app, port):
        async with httpx.AsyncClient(base_url=base) as api:
            national = (await api.get("/api/v1/indicators", params=Q1)).json()
            card = (
                await api.get(
                    "/api/v1/indicators", params={"scope": "province", "code": province, **Q1}
                )
            ).json()
        seen = await asyncio.to_thread(
            _read, f"{base}/dashboard?from={Q1['from']}&to={Q1['to']}", province
        )

    hosts = {urlsplit(url).netloc for url in seen["requests"] if not url.startswith("data:")}
    assert hosts == {f"127.0.0.1:{port}"}, seen["requests"]
    assert seen["console_errors"] == []
    assert seen["page_errors"] == []

    assert seen["national"]["total"] == decimal(national["total_score"])
    assert seen["national"]["ranking"] == 34
    shown = seen["province"]
    assert shown["name"].startswith(card["name"])
    assert shown["total"] == decimal(card["total_score"])
    for indicator in card["indicators"]:
        assert shown["values"][indicator["id"]] == _shown(indicator), indicator["id"]
    assert shown["fractions"]["2.1"] == ("4", "7")
    assert shown["fractions"]["3.3"] == ("5", "7")
    assert shown["online_bars"] == 14  # a bar per week of the quarter
    filtered = seen["filtered"]
    assert f"/dashboard/provinces/{province}" in filtered["url"]
    assert filtered["period"] == "01/01/2026 – 31/01/2026"
    assert filtered["on_time_bars"] == 31
