"""A resend stays a resend across the item-key migration (20261207_1000): an item stored under
the old canonical form (json's) is recognised when the same item comes again after the
upgrade, on a database of the suite's kind."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime

from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from app.catalogue.repository import CatalogueRepository
from app.catalogue.service import CatalogueService
from app.core import migrations
from app.core.calendar import VIETNAM_TZ
from app.core.config import Settings
from app.core.db import Database
from app.main import create_app
from tests.support.clock import ManualClock
from tests.support.factories import receiving_pair
from tests.support.sync import PROCESSING, back_office, outcomes, record

BEFORE_KEYS = "5e2b7c90d1a4"  # the revision before 20261207_1000_canonical_item_keys
NOW = datetime(2026, 3, 3, 9, 0, tzinfo=VIETNAM_TZ)


async def _stored_items(database: Database) -> list[tuple[str, str, str]]:
    async with database.read() as session:
        rows = await session.execute(text("SELECT service, item_key, payload FROM sync_items"))
        return [(service, key, payload) for service, key, payload in rows]


async def test_an_item_stored_before_the_key_migration_is_a_duplicate_after_it(
    scratch_settings: Settings,
) -> None:
    await asyncio.to_thread(migrations.upgrade, scratch_settings)
    database = Database.from_settings(scratch_settings)
    async with database.write() as session:
        await CatalogueService(CatalogueRepository(session)).load(
            seed=scratch_settings.catalogue_seed,
            communes_per_province=scratch_settings.communes_per_province,
        )
    app = create_app(scratch_settings)
    app.state.clock = ManualClock(NOW)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://portal.test") as client,
    ):
        procedure, agency = await receiving_pair(client, processing_time=5)
        office = await back_office(client, scratch_settings, agency["code"])
        code = f"{agency['code']}-260302-0042"
        item = record(
            code,
            procedure["code"],
            "001190000042",
            status=PROCESSING,
            submitted=datetime(2026, 3, 2, 8, 0, tzinfo=VIETNAM_TZ),
            accepted=datetime(2026, 3, 2, 8, 15, tzinfo=VIETNAM_TZ),
        ) | {"GhiChu": "Hồ sơ đủ", "ThongTinKhac": {"z": [1, 2.5], "a": None}}
        assert outcomes(await office.records(item)) == [(code, 0, "created")]

        # Back to the revision before the migration: the key is the one the portal stored then,
        # SHA-256 of json's canonical form of the item as validated.
        await asyncio.to_thread(migrations.downgrade, scratch_settings, BEFORE_KEYS)
        [(service, key, payload)] = await _stored_items(database)
        validated = json.loads(payload) if isinstance(payload, str) else payload
        old_form = json.dumps([service, validated], sort_keys=True, ensure_ascii=False)
        assert key == hashlib.sha256(old_form.encode()).hexdigest()

        await asyncio.to_thread(migrations.upgrade, scratch_settings)
        assert outcomes(await office.records(item)) == [(code, 0, "duplicate")]
        assert len(await _stored_items(database)) == 1
    await database.dispose()
