"""All SQL of the status sync: a batch costs a fixed number of statements, whatever its size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic

from sqlalchemy import (
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    text,
    update,
)

from app.core.db import SessionT, WriteSession
from app.core.models import table_of
from app.core.upsert import dialect_insert
from app.dossiers.models import Dossier, DossierEvent
from app.dossiers.repository import DossierRow
from app.sync.models import SyncDailyStat, SyncItem

DOSSIERS = table_of(Dossier)
EVENTS = table_of(DossierEvent)
ITEMS = table_of(SyncItem)

STAT_COLUMNS = (
    "items",
    "created",
    "updated",
    "duplicates",
    "stale",
    "refused",
    "due_disagreements",
)


# A call's rows of one kind fit one statement: insertmanyvalues also splits a statement before
# the server's limit of bound parameters (32,767 on PostgreSQL).
_ONE_STATEMENT = {"insertmanyvalues_page_size": 5000}


@dataclass(frozen=True, slots=True)
class HistoryEnd:
    last_at: datetime
    held_back: bool  # some reported step is kept in the history without being applied


class SyncRepository(Generic[SessionT]):
    def __init__(self, session: SessionT) -> None:
        self.session: SessionT = session

    async def lock_dossier_codes(self: SyncRepository[WriteSession], codes: Iterable[str]) -> None:
        """Serialise batches that touch the same dossiers, existing or about to be created, for
        the rest of the transaction. Locks are taken in one sorted order, so two batches cannot
        deadlock. SQLite needs none: its write transactions are serial already."""
        ordered = sorted(set(codes))
        if not ordered or self.session.get_bind().dialect.name != "postgresql":
            return
        await self.session.execute(
            text(
                "SELECT pg_advisory_xact_lock(k) FROM "
                "(SELECT hashtextextended(c, 0) AS k FROM unnest(CAST(:codes AS text[])) AS c "
                "ORDER BY k) AS s"
            ).bindparams(bindparam("codes", ordered))
        )

    async def dossiers(self, codes: Iterable[str], *, for_update: bool) -> dict[str, DossierRow]:
        statement = (
            select(DOSSIERS).where(DOSSIERS.c.code.in_(set(codes))).order_by(DOSSIERS.c.code)
        )
        if for_update:
            statement = statement.with_for_update()
        return {row.code: row for row in await self.session.execute(statement)}

    async def items(self, dossier_ids: Sequence[int]) -> Sequence[SyncItem]:
        statement = (
            select(SyncItem).where(SyncItem.dossier_id.in_(dossier_ids)).order_by(SyncItem.id)
        )
        return (await self.session.scalars(statement)).all()

    async def received_keys(
        self, dossier_ids: Sequence[int], keys: Iterable[str]
    ) -> dict[int, set[str]]:
        """Which of these item keys each dossier has received before."""
        statement = select(SyncItem.dossier_id, SyncItem.item_key).where(
            SyncItem.dossier_id.in_(dossier_ids), SyncItem.item_key.in_(set(keys))
        )
        received: dict[int, set[str]] = defaultdict(set)
        for dossier_id, key in (await self.session.execute(statement)).all():
            received[dossier_id].add(key)
        return received

    async def history_ends(self, dossier_ids: Sequence[int]) -> dict[int, HistoryEnd]:
        """Where each dossier's timeline ends, and whether it holds steps kept but not applied:
        one row a dossier, read from the index on its events."""
        statement = (
            select(
                DossierEvent.dossier_id,
                func.max(DossierEvent.at),
                func.sum(case((DossierEvent.applied.is_(False), 1), else_=0)),
            )
            .where(DossierEvent.dossier_id.in_(dossier_ids))
            .group_by(DossierEvent.dossier_id)
        )
        rows = (await self.session.execute(statement)).all()
        return {
            dossier_id: HistoryEnd(last_at=last_at, held_back=bool(held_back))
            for dossier_id, last_at, held_back in rows
        }

    async def events(self, dossier_ids: Sequence[int]) -> Sequence[DossierEvent]:
        statement = (
            select(DossierEvent)
            .where(DossierEvent.dossier_id.in_(dossier_ids))
            .order_by(DossierEvent.id)
        )
        return (await self.session.scalars(statement)).all()

    async def drop_sync_events(
        self: SyncRepository[WriteSession], dossier_ids: Sequence[int]
    ) -> None:
        """Reported events are rebuilt from the items on every replay."""
        await self.session.execute(
            delete(DossierEvent).where(
                DossierEvent.dossier_id.in_(dossier_ids), DossierEvent.origin == "sync"
            )
        )

    # Dossiers, items and events go in as plain rows, each kind in one multi-row statement
    # (SQLAlchemy's "insertmanyvalues", which an INSERT ... RETURNING given many rows takes), not
    # as ORM objects nor as one statement a row: a 500-item call writes thousands of rows.

    async def insert_dossiers(
        self: SyncRepository[WriteSession], rows: list[dict[str, Any]]
    ) -> dict[str, int]:
        """New dossiers; returns their ids by code."""
        if not rows:
            return {}
        statement = insert(DOSSIERS).returning(DOSSIERS.c.id, DOSSIERS.c.code)
        result = await self.session.execute(statement.execution_options(**_ONE_STATEMENT), rows)
        return {code: dossier_id for dossier_id, code in result}

    async def update_dossiers(
        self: SyncRepository[WriteSession], rows: list[dict[str, Any]]
    ) -> None:
        """Set columns of stored dossiers, each row its `id` and the same other columns: one
        statement given every row (asyncpg pipelines them in one round trip). An
        UPDATE ... FROM (VALUES ...) of the call ran 2-3 times slower on PostgreSQL (in-process
        500-step calls: 616 against 3,201 items/s)."""
        if not rows:
            return
        names = [name for name in rows[0] if name != "id"]
        statement = (
            update(DOSSIERS)
            .where(DOSSIERS.c.id == bindparam("b_id"))
            .values({name: bindparam(f"b_{name}") for name in names})
        )
        await self.session.execute(
            statement, [{f"b_{name}": value for name, value in row.items()} for row in rows]
        )

    async def insert_items(
        self: SyncRepository[WriteSession], rows: list[dict[str, Any]]
    ) -> dict[tuple[int, str], int]:
        """Store new items; returns their ids by (dossier id, item key)."""
        if not rows:
            return {}
        statement = insert(ITEMS).returning(ITEMS.c.id, ITEMS.c.dossier_id, ITEMS.c.item_key)
        result = await self.session.execute(statement.execution_options(**_ONE_STATEMENT), rows)
        return {(dossier_id, key): item_id for item_id, dossier_id, key in result}

    async def insert_events(self: SyncRepository[WriteSession], rows: list[dict[str, Any]]) -> None:
        if rows:
            statement = insert(EVENTS).returning(EVENTS.c.id)
            await self.session.execute(statement.execution_options(**_ONE_STATEMENT), rows)

    async def count_day(
        self: SyncRepository[WriteSession], agency_code: str, day: date, counts: dict[str, int]
    ) -> None:
        row = {"agency_code": agency_code, "day": day} | {c: counts.get(c, 0) for c in STAT_COLUMNS}
        statement = dialect_insert(self.session, SyncDailyStat).values(row)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["agency_code", "day"],
                set_={c: getattr(SyncDailyStat, c) + statement.excluded[c] for c in STAT_COLUMNS},
            )
        )

    async def daily_stats(
        self, *, agency_code: str | None, since: date | None, until: date | None
    ) -> Sequence[SyncDailyStat]:
        statement = select(SyncDailyStat).order_by(SyncDailyStat.day, SyncDailyStat.agency_code)
        if agency_code:
            statement = statement.where(SyncDailyStat.agency_code == agency_code)
        if since:
            statement = statement.where(SyncDailyStat.day >= since)
        if until:
            statement = statement.where(SyncDailyStat.day <= until)
        return (await self.session.scalars(statement)).all()
