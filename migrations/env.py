"""Alembic environment: async engines, the URL from Settings, batch mode on SQLite."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

import app.accounts.models
import app.catalogue.models
import app.dossiers.models
import app.payments.models
import app.sync.models  # noqa: F401 - registers every table on Base.metadata
from app.core.config import Settings, get_settings
from app.core.db import create_engine
from app.core.models import Base

config = context.config
if config.config_file_name is not None and not config.attributes.get("database_url"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _settings() -> Settings:
    url = config.attributes.get("database_url")
    if url is None:
        return get_settings()
    plain = url.replace("+asyncpg", "").replace("+aiosqlite", "")
    return get_settings().model_copy(update={"database_url": plain})


def _configure(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            # Foreign keys were off while batch mode rebuilt tables; prove nothing broke.
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")


async def _run_online() -> None:
    engine = create_engine(_settings(), sqlite_foreign_keys=False)
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=_settings().async_database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
