"""Gateway fixtures: an app per test on a manual clock and a recording sleep, its IPNs routed
in-process to a merchant stand-in, its ledger in a temp SQLite file, or in TEST_DATABASE_URL's
PostgreSQL database (only the gateway_* tables are touched there: emptied, never dropped)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncBaseTransport, AsyncClient
from sqlalchemy import delete, text
from sqlalchemy.engine import make_url

from app.core.calendar import VIETNAM_TZ
from app.core.config import Settings
from app.core.db import Database, create_engine
from app.gateway.ipn import Sleep
from app.gateway.main import create_gateway_app, create_ledger, ledger_settings
from app.gateway.models import GatewayApiRequest, GatewayIpnDelivery, GatewayTransaction
from tests.gateway.support import IPN_URL, SECRET, TMN_CODE, Merchant, RecordingSleep
from tests.support.clock import ManualClock

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=VIETNAM_TZ)

GatewayFactory = Callable[..., Awaitable[tuple[FastAPI, AsyncClient]]]


@pytest.fixture(scope="session")
async def postgres_ledger_url() -> str | None:
    """On PostgreSQL, the ledger lives in its own database beside TEST_DATABASE_URL's (its name
    plus `_gateway`, created if missing), clear of the portal suite's schema resets."""
    url = os.environ.get("TEST_DATABASE_URL") or ""
    if not url.startswith("postgres"):
        return None
    base = make_url(url)
    name = f"{base.database}_gateway"
    admin = create_engine(Settings(_env_file=None, database_url=url))
    try:
        async with admin.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            exists = await autocommit.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                await autocommit.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
async def gateway_settings(tmp_path: Path, postgres_ledger_url: str | None) -> Settings:
    settings = Settings(
        _env_file=None,
        vnpay_tmn_code=TMN_CODE,
        vnpay_hash_secret=SECRET,
        vnpay_ipn_url=IPN_URL,
        gateway_database_url=postgres_ledger_url or f"sqlite:///{tmp_path / 'gateway.db'}",
        gateway_faults="",
        gateway_ipn_attempts=5,
    )
    if postgres_ledger_url:  # empty the gateway's own tables; nothing is dropped
        database = Database.from_settings(ledger_settings(settings))
        await create_ledger(database, ledger_settings(settings))
        async with database.write() as session:
            for table in (GatewayIpnDelivery, GatewayApiRequest, GatewayTransaction):
                await session.execute(delete(table))
        await database.dispose()
    return settings


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def merchant() -> Merchant:
    return Merchant()


@pytest.fixture
async def make_gateway(
    gateway_settings: Settings, clock: ManualClock, sleeps: RecordingSleep, merchant: Merchant
) -> AsyncIterator[GatewayFactory]:
    """Build a gateway app (settings overridden by keyword; another IPN transport or sleep if
    given) and a client over ASGI; both are closed, and the app shut down, after the test."""
    async with AsyncExitStack() as stack:

        async def build(
            *,
            ipn_transport: AsyncBaseTransport | None = None,
            sleep: Sleep | None = None,
            **overrides: Any,
        ) -> tuple[FastAPI, AsyncClient]:
            settings = gateway_settings.model_copy(update=overrides)
            app = create_gateway_app(
                settings,
                ipn_transport=ipn_transport or ASGITransport(app=merchant.app),
                clock=clock,
                sleep=sleep or sleeps,
            )
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = ASGITransport(app=app, raise_app_exceptions=False)
            client = await stack.enter_async_context(
                AsyncClient(transport=transport, base_url="http://gateway.test")
            )
            return app, client

        yield build


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> tuple[FastAPI, AsyncClient]:
    return await make_gateway()


@pytest.fixture
def client(gateway: tuple[FastAPI, AsyncClient]) -> AsyncClient:
    return gateway[1]


@pytest.fixture
def app(gateway: tuple[FastAPI, AsyncClient]) -> FastAPI:
    return gateway[0]
