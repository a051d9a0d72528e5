"""Migrations: upgrade, downgrade, upgrade on a scratch database of the suite's kind, and the
migrated schema matches the models."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from app.core import migrations
from app.core.config import Settings
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
