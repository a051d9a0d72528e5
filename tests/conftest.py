"""Test fixtures: a freshly migrated database per session (SQLite by default, PostgreSQL when
TEST_DATABASE_URL is set), emptied of dossiers and accounts before each test; an app per test
on a manual clock; an httpx client over ASGI."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete, text
from sqlalchemy.engine import make_url

from app.accounts.models import Account
from app.catalogue.repository import CatalogueRepository
from app.catalogue.service import CatalogueService
from app.core import migrations
from app.core.calendar import VIETNAM_TZ
from app.core.config import Settings
from app.core.db import Database, create_engine
from app.dossiers.models import (
    Dossier,
    DossierCodeCounter,
    DossierComplaint,
    DossierDocument,
    DossierEvent,
)
from app.main import create_app
from app.payments.models import Payment
from app.sync.models import SyncDailyStat, SyncItem
from tests.support.clock import ManualClock

# Tuesday 3 March 2026, 09:00 in Hanoi: a plain working day, clear of Tết.
DEFAULT_NOW = datetime(2026, 3, 3, 9, 0, tzinfo=VIETNAM_TZ)
MUTABLE_TABLES = (
    Payment,
    DossierComplaint,
    DossierDocument,
    DossierEvent,
    SyncItem,
    Dossier,
    DossierCodeCounter,
    SyncDailyStat,
    Account,
)


def _database_url(tmp_dir: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'portalsim-test.db'}"


@pytest.fixture(scope="session")
def base_settings() -> Iterator[Settings]:
    with tempfile.TemporaryDirectory(prefix="portalsim-test-") as tmp:
        tmp_dir = Path(tmp)
        settings = Settings(
            database_url=_database_url(tmp_dir),
            document_dir=tmp_dir / "documents",
            secret_key="portalsim-test-secret-of-at-least-32-bytes",
            _env_file=None,
        )
        yield settings


@pytest.fixture(scope="session")
async def prepared_database(base_settings: Settings) -> Settings:
    """Empty the database (PostgreSQL: drop the public schema), migrate to head, and load the
    catalogue once for the session."""
    if not base_settings.is_sqlite:
        name = make_url(base_settings.database_url).database or ""
        if "test" not in name:
            pytest.exit(
                f"TEST_DATABASE_URL names {name!r}: the suite empties its database, so it runs "
                "only on one whose name contains 'test'"
            )
        database = Database.from_settings(base_settings)
        async with database.write_engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await database.dispose()
    await asyncio.to_thread(migrations.upgrade, base_settings)
    database = Database.from_settings(base_settings)
    async with database.write() as session:
        await CatalogueService(CatalogueRepository(session)).load(
            seed=base_settings.catalogue_seed,
            communes_per_province=base_settings.communes_per_province,
        )
    await database.dispose()
    return base_settings


@pytest.fixture
async def settings(prepared_database: Settings, tmp_path: Path) -> Settings:
    """Per test: the shared database emptied of what tests create, and a private document dir."""
    database = Database.from_settings(prepared_database)
    async with database.write() as session:
        for table in MUTABLE_TABLES:
            await session.execute(delete(table))
    await database.dispose()
    return prepared_database.model_copy(update={"document_dir": tmp_path / "documents"})


@pytest.fixture
async def scratch_settings(base_settings: Settings, tmp_path: Path) -> AsyncIterator[Settings]:
    """An empty database beside the suite's: a new SQLite file, or a new PostgreSQL database."""
    if base_settings.is_sqlite:
        yield base_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'm.db'}"})
        return
    name = f"portalsim_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_settings)
    async with admin.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base_settings.database_url).set(database=name)
    try:
        yield base_settings.model_copy(
            update={"database_url": url.render_as_string(hide_password=False)}
        )
    finally:
        async with admin.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DEFAULT_NOW)


@pytest.fixture
async def app(settings: Settings, clock: ManualClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    application.state.clock = clock
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://portal.test") as http:
        yield http


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    on_postgres = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgres")
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL")
    for item in items:
        if "postgres_only" in item.keywords and not on_postgres:
            item.add_marker(skip)
