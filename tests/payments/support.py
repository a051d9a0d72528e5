"""The portal and the real mock gateway, each its own app, wired to each other in process: the
gateway's IPNs reach the portal, the portal's querydr and refunds reach the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncBaseTransport, AsyncClient
from starlette.types import Receive, Scope, Send

from app.core.config import Settings
from app.gateway.ipn import Sleep
from app.gateway.main import create_gateway_app
from app.main import create_app
from app.services import Services
from tests.support.clock import ManualClock


@dataclass
class Apps:
    portal_app: FastAPI
    portal: AsyncClient
    gateway_app: FastAPI
    gateway: AsyncClient
    settings: Settings  # the portal's

    @property
    def services(self) -> Services:
        services: Services = self.portal_app.state.services
        return services


@asynccontextmanager
async def paired(
    settings: Settings,
    clock: ManualClock,
    tmp_path: Path,
    *,
    gateway_faults: str = "",
    sleep: Sleep | None = None,
    to_gateway: Callable[[AsyncBaseTransport], AsyncBaseTransport] | None = None,
    **overrides: Any,
) -> AsyncIterator[Apps]:
    """Both apps started (the portal on `clock`, its settings overridden by keyword), and a
    client to each. `sleep` replaces the gateway's waits (default: real ones); `to_gateway`
    wraps the portal's transport to the gateway (to take the gateway down, say)."""
    portal_settings = settings.model_copy(update=overrides)
    gateway_settings = settings.model_copy(
        update={
            "gateway_database_url": f"sqlite:///{tmp_path / 'gateway.db'}",
            "gateway_faults": gateway_faults,
        }
    )
    apps: dict[str, FastAPI] = {}

    async def to_portal(scope: Scope, receive: Receive, send: Send) -> None:
        await apps["portal"](scope, receive, send)  # each app refers to the other

    gateway_app = create_gateway_app(
        gateway_settings, ipn_transport=ASGITransport(app=to_portal), sleep=sleep
    )
    transport: AsyncBaseTransport = ASGITransport(app=gateway_app)
    portal_app = apps["portal"] = create_app(
        portal_settings, gateway_transport=to_gateway(transport) if to_gateway else transport
    )
    portal_app.state.clock = clock
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(gateway_app.router.lifespan_context(gateway_app))
        await stack.enter_async_context(portal_app.router.lifespan_context(portal_app))
        portal = await stack.enter_async_context(
            AsyncClient(
                transport=ASGITransport(app=portal_app, raise_app_exceptions=False),
                base_url="http://portal.test",
            )
        )
        gateway = await stack.enter_async_context(
            AsyncClient(transport=ASGITransport(app=gateway_app), base_url="http://gw.test")
        )
        yield Apps(portal_app, portal, gateway_app, gateway, portal_settings)
