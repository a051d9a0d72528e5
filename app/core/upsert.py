"""Insert-or-update by primary key on both databases (their ON CONFLICT dialects differ only
in the import)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

UPSERT_BATCH = 1000


def dialect_insert(session: AsyncSession, model: type[DeclarativeBase]) -> Any:
    """The dialect's INSERT construct, which offers on_conflict_do_update/do_nothing."""
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(model)


async def upsert(
    session: AsyncSession, model: type[DeclarativeBase], rows: list[dict[str, Any]]
) -> None:
    if not rows:
        return
    keys = [column.name for column in inspect(model).primary_key]
    for start in range(0, len(rows), UPSERT_BATCH):
        batch = rows[start : start + UPSERT_BATCH]
        statement = dialect_insert(session, model).values(batch)
        updates = {name: statement.excluded[name] for name in batch[0] if name not in keys}
        await session.execute(
            statement.on_conflict_do_update(index_elements=keys, set_=updates)
            if updates
            else statement.on_conflict_do_nothing(index_elements=keys)
        )
