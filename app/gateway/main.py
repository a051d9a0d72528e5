"""The mock gateway's ASGI app: `create_gateway_app(settings)`, served by `portalsim gateway`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from app.core.clock import Clock, clock_from_settings
from app.core.config import Settings, get_settings, settings_refusal
from app.core.db import Database
from app.core.edge import Edge
from app.core.errors import install_error_handlers, route_methods
from app.gateway.endpoints import router
from app.gateway.errors import install_gateway_error_handler
from app.gateway.faults import FaultRoller, parse_faults
from app.gateway.ipn import IpnDispatcher, Sleep
from app.gateway.metrics import GatewayMetrics
from app.gateway.models import GatewayBase
from app.gateway.service import GatewayService

REQUEST_MAX_BYTES = 64 * 1024


def ledger_settings(settings: Settings) -> Settings:
    """The settings with the gateway's ledger as their database."""
    return settings.model_copy(update={"database_url": settings.gateway_database_url})


async def create_ledger(database: Database, settings: Settings) -> None:
    """Create the ledger's tables if missing (see app/gateway/models.py for why not Alembic)."""
    if settings.is_sqlite:
        path = make_url(settings.database_url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    async with database.write_engine.begin() as connection:
        await connection.run_sync(GatewayBase.metadata.create_all)


def create_gateway_app(
    settings: Settings | None = None,
    *,
    ipn_transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
) -> FastAPI:
    """The gateway app. `ipn_transport` routes IPNs elsewhere than the network (tests give an
    `httpx.ASGITransport` of a merchant stand-in); `sleep` replaces `asyncio.sleep` for every
    wait (fault latency, time-out, late IPN, retry backoff). A bad GATEWAY_FAULTS fails here, as
    do refused settings copied past their validation (demo secrets when DEPLOYMENT=shared)."""
    settings = settings or get_settings()
    refusal = settings_refusal(settings)
    if refusal:
        raise ValueError(refusal)
    base_faults = parse_faults(settings.gateway_faults)
    ledger = ledger_settings(settings)
    metrics = GatewayMetrics()
    the_clock = clock or clock_from_settings(settings)
    the_sleep: Sleep = sleep or asyncio.sleep

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database.from_settings(ledger)
        client = httpx.AsyncClient(
            transport=ipn_transport,
            timeout=settings.gateway_ipn_timeout_seconds,
            follow_redirects=False,
        )
        dispatcher = IpnDispatcher(
            url=settings.vnpay_ipn_url,
            secret=settings.vnpay_hash_secret,
            database=database,
            client=client,
            clock=the_clock,
            metrics=metrics,
            sleep=the_sleep,
            attempts=settings.gateway_ipn_attempts,
            backoff_seconds=settings.gateway_ipn_backoff_seconds,
        )
        try:
            await create_ledger(database, ledger)
            app.state.database = database
            app.state.ipn = dispatcher
            app.state.service = GatewayService(
                settings=settings,
                database=database,
                clock=the_clock,
                roller=FaultRoller(settings.gateway_faults_seed),
                base_faults=base_faults,
                dispatcher=dispatcher,
                metrics=metrics,
                sleep=the_sleep,
            )
            yield
        finally:
            await dispatcher.close()
            await client.aclose()
            await database.dispose()

    app = FastAPI(
        title="portalsim gateway: a mock VNPay 2.1.0 payment gateway",
        description=(
            "Pay URL, payer simulation with test cards, IPN with retries, querydr and refund, "
            "and fault knobs (GATEWAY_FAULTS, X-Gateway-Faults)."
        ),
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    install_error_handlers(app)
    install_gateway_error_handler(app)
    # The portal's layer in front, without faults (the gateway's are its service's).
    app.add_middleware(Edge, metrics=metrics, max_bytes=REQUEST_MAX_BYTES)
    app.include_router(router)
    app.state.route_methods = route_methods([router])
    return app
