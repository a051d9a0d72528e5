"""Migrations: upgrade, downgrade, upgrade on a scratch database of the suite's kind, and the
migrated schema matches the models."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from app.core import migrations
from app.core.config import PROJECT_ROOT, Settings
from app.core.db import create_engine
from app.core.models import Base


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_downgrade_upgrade(scratch_settings: Settings) -> None:
    engine = create_engine(scratch_settings)

    async def tables() -> set[str]:
        async with engine.connect() as connection:
            return await connection.run_sync(_tables)

    await asyncio.to_thread(migrations.upgrade, scratch_settings)
    assert await tables() == set(Base.metadata.tables)

    await asyncio.to_thread(migrations.downgrade, scratch_settings, "base")
    assert await tables() == set()

    await asyncio.to_thread(migrations.upgrade, scratch_settings)
    assert await tables() == set(Base.metadata.tables)
    async with engine.connect() as connection:
        assert await connection.run_sync(_schema_differences) == []
        revision = await migrations.current_revision(connection)
    assert revision == migrations.head_revision()
    await engine.dispose()


INITIAL = "7f64f4c227cb"
ROWS_AT_INITIAL = (
    "INSERT INTO procedure_fields (code, name) VALUES ('ho_tich', 'Hộ tịch')",
    "INSERT INTO procedures (code, name, search_text, field_code, agency_level, "
    "processing_time, processing_unit, fees, online_level) VALUES ('1.000001', 'Đăng ký khai "
    "sinh', 'dang ky khai sinh', 'ho_tich', 'commune', 8, 'working_hour', '[]', 'full')",
    "INSERT INTO procedures (code, name, search_text, field_code, agency_level, "
    "processing_time, processing_unit, fees, online_level) VALUES ('1.000002', 'Cấp bản sao', "
    "'cap ban sao', 'ho_tich', 'commune', 1, 'working_day', "
    '\'[{"code": "LP-1", "name": "Lệ phí", "amount": 8000}]\', \'full\')',
    "INSERT INTO provinces (code, name, codename) VALUES (1, 'Hà Nội', 'ha_noi')",
    "INSERT INTO agencies (code, name, level, province_code) "
    "VALUES ('001.00.99.H01', 'UBND Phường Ba Đình', 'commune', 1)",
    "INSERT INTO accounts (id, kind, identifier, full_name, created_at) "
    "VALUES (1, 'citizen', '001090000001', 'Nguyễn Văn An', '2026-03-03 02:00:00+00')",
    "INSERT INTO dossiers (id, code, procedure_code, agency_code, owner_id, status, channel, "
    "applicant, form, submitted_at, updated_at, supplement_requests) VALUES (1, "
    "'001.00.99.H01-260303-0001', '1.000001', '001.00.99.H01', 1, 1, 2, '{}', '{}', "
    "'2026-03-03 02:00:00+00', '2026-03-03 02:00:00+00', 0)",
    "INSERT INTO dossier_events (id, dossier_id, to_status, actor_kind, actor, at) "
    "VALUES (1, 1, 1, 'citizen', '001090000001', '2026-03-03 02:00:00+00')",
)


async def test_upgrading_a_database_that_holds_dossiers(scratch_settings: Settings) -> None:
    """Later revisions rebuild tables that others refer to (batch mode on SQLite): existing
    rows and their references survive, and new columns are backfilled."""
    await asyncio.to_thread(migrations.upgrade, scratch_settings, INITIAL)
    engine = create_engine(scratch_settings)
    async with engine.begin() as connection:
        for statement in ROWS_AT_INITIAL:
            await connection.execute(text(statement))

    await asyncio.to_thread(migrations.upgrade, scratch_settings)

    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT processing_time, processing_unit FROM dossiers WHERE id = 1")
            )
        ).one()
        events = await connection.scalar(text("SELECT count(*) FROM dossier_events"))
        charging = (
            await connection.execute(text("SELECT code, has_fees FROM procedures ORDER BY code"))
        ).all()
    await engine.dispose()
    assert tuple(row) == (8, "working_hour")
    assert events == 1
    # Filled from the fee lines: indicator 3.6 counts dossiers of procedures that charge.
    assert [tuple(r) for r in charging] == [("1.000001", False), ("1.000002", True)]


def test_revision_files_sort_in_the_order_they_apply() -> None:
    # A reader (and `ls`) takes the folder's order for the chain's: the names must agree.
    script = ScriptDirectory(str(PROJECT_ROOT / "migrations"))
    chain = [Path(revision.path).name for revision in reversed(list(script.walk_revisions()))]
    assert chain == sorted(chain)
