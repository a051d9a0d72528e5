"""Alembic from code: the CLI migrates, /readyz compares the schema with the head revision."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.config import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported inside the functions that use it: it costs a third of a second to import,
# which neither a worker starting (its /readyz reads the head once, later) nor `portalsim
# agencies` should pay.


def alembic_config(settings: Settings) -> Config:
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # env.py reads the URL from here, so every caller migrates the database it was given.
    config.attributes["database_url"] = settings.async_database_url
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Blocking: call it from a thread (asyncio.to_thread) when inside an event loop."""
    if settings.is_sqlite:
        Path(settings.database_url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    from alembic import command

    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(settings), revision)


@lru_cache
def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(PROJECT_ROOT / "migrations"))
    return script.get_current_head()


async def current_revision(connection: AsyncConnection) -> str | None:
    try:
        result = await connection.execute(text("SELECT version_num FROM alembic_version"))
    except Exception:
        return None
    return result.scalar_one_or_none()
