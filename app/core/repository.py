"""Query plumbing shared by the repositories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVarTuple

from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

Columns = TypeVarTuple("Columns")


async def fetch_page(
    session: AsyncSession, statement: Select[*Columns], *, offset: int, limit: int
) -> tuple[Sequence[Row[*Columns]], int]:
    """One page of rows of an ordered statement, and how many rows the whole statement has."""
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    rows = (await session.execute(statement.offset(offset).limit(limit))).all()
    return rows, total or 0
