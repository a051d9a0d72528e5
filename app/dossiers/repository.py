"""All SQL of dossiers, their events and documents."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any, Generic

from sqlalchemy import Row, bindparam, case, delete, select

from app.core.db import SessionT, WriteSession
from app.core.repository import fetch_page
from app.core.upsert import dialect_insert
from app.dossiers.kinds import Channel
from app.dossiers.models import (
    Dossier,
    DossierCodeCounter,
    DossierComplaint,
    DossierDocument,
    DossierEvent,
    DossierStatusMove,
    DossierStatusTally,
)

# The look-ups of every request, built once: building a statement and its cache key took more
# of a look-up's time than PostgreSQL did (py-spy, benchmarks/hot_paths.py).
_BY_CODE = select(Dossier).where(Dossier.code == bindparam("code"))
_BY_CODE_FOR_UPDATE = _BY_CODE.with_for_update()
_BY_ID = select(Dossier).where(Dossier.id == bindparam("id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
# Rows for answers that only show a dossier: a Core row costs no ORM instance to build.
DOSSIERS = Dossier.__table__
DossierRow = Row[Any]
_ROW_BY_CODE = select(DOSSIERS).where(DOSSIERS.c.code == bindparam("code"))
_BY_KEY = select(Dossier).where(
    Dossier.owner_id == bindparam("owner_id"), Dossier.idempotency_key == bindparam("key")
)


class DossierRepository(Generic[SessionT]):
    def __init__(self, session: SessionT) -> None:
        self.session: SessionT = session

    async def next_sequence(
        self: DossierRepository[WriteSession], agency_code: str, day: date, limit: int
    ) -> int | None:
        """The next number of the agency's day, in this transaction; None once `limit` is given
        out (the counter then stays where it is: it never overflows).

        One upsert that locks the counter row: concurrent submitters to the same agency and day
        queue on that lock, and a rolled-back submission gives its number back, so the numbers
        have neither gaps nor duplicates.
        """
        insert = dialect_insert(self.session, DossierCodeCounter).values(
            agency_code=agency_code, day=day, last_seq=1
        )
        statement = insert.on_conflict_do_update(
            index_elements=["agency_code", "day"],
            set_={"last_seq": DossierCodeCounter.last_seq + 1},
            where=DossierCodeCounter.last_seq < limit,
        ).returning(DossierCodeCounter.last_seq)
        sequence: int | None = (await self.session.execute(statement)).scalar_one_or_none()
        return sequence

    async def reserve_sequence(
        self: DossierRepository[WriteSession], agency_code: str, day: date, sequence: int
    ) -> None:
        """Make sure the portal numbers the agency's day past `sequence`, a number a back office
        has already used in a code of its own."""
        insert = dialect_insert(self.session, DossierCodeCounter).values(
            agency_code=agency_code, day=day, last_seq=sequence
        )
        counter = DossierCodeCounter.last_seq
        await self.session.execute(
            insert.on_conflict_do_update(
                index_elements=["agency_code", "day"],
                set_={
                    "last_seq": case(
                        (counter < insert.excluded.last_seq, insert.excluded.last_seq),
                        else_=counter,
                    )
                },
            )
        )

    async def add(
        self: DossierRepository[WriteSession],
        *rows: Dossier | DossierEvent | DossierDocument | DossierComplaint,
    ) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def get(self, code: str, *, for_update: bool = False) -> Dossier | None:
        # FOR UPDATE serialises concurrent changes of one dossier on PostgreSQL; SQLite's write
        # transactions are serial already (BEGIN IMMEDIATE).
        statement = _BY_CODE_FOR_UPDATE if for_update else _BY_CODE
        return await self.session.scalar(statement, {"code": code})

    async def row(self, code: str) -> DossierRow | None:
        return (await self.session.execute(_ROW_BY_CODE, {"code": code})).first()

    async def by_id(self, dossier_id: int, *, for_update: bool = False) -> Dossier:
        statement = _BY_ID_FOR_UPDATE if for_update else _BY_ID
        return (await self.session.scalars(statement, {"id": dossier_id})).one()

    async def by_idempotency_key(self, owner_id: int, key: str) -> Dossier | None:
        return await self.session.scalar(_BY_KEY, {"owner_id": owner_id, "key": key})

    async def list_for_owner(
        self, owner_id: int, *, offset: int, limit: int
    ) -> tuple[Sequence[DossierRow], int]:
        statement = (
            select(DOSSIERS)
            .where(DOSSIERS.c.owner_id == owner_id)
            .order_by(DOSSIERS.c.submitted_at.desc(), DOSSIERS.c.id.desc())
        )
        return await fetch_page(self.session, statement, offset=offset, limit=limit)

    async def agency_inbox(
        self,
        agency_code: str,
        *,
        status: int | None,
        include_acknowledged: bool,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[DossierRow], int]:
        columns = DOSSIERS.c
        conditions = [columns.agency_code == agency_code, columns.channel == Channel.ONLINE]
        if status is not None:
            conditions.append(columns.status == status)
        if not include_acknowledged:
            conditions.append(columns.acked_at.is_(None))
        statement = select(DOSSIERS).where(*conditions).order_by(columns.submitted_at, columns.id)
        return await fetch_page(self.session, statement, offset=offset, limit=limit)

    async def complaints(self, dossier_id: int) -> Sequence[DossierComplaint]:
        statement = (
            select(DossierComplaint)
            .where(DossierComplaint.dossier_id == dossier_id)
            .order_by(DossierComplaint.filed_at, DossierComplaint.id)
        )
        return (await self.session.scalars(statement)).all()

    async def agency_complaints(
        self, agency_code: str, *, offset: int, limit: int
    ) -> tuple[list[tuple[DossierComplaint, str]], int]:
        """The complaints about the agency's dossiers, newest first, with each dossier's code."""
        statement = (
            select(DossierComplaint, Dossier.code)
            .join(Dossier, Dossier.id == DossierComplaint.dossier_id)
            .where(DossierComplaint.agency_code == agency_code)
            .order_by(DossierComplaint.filed_at.desc(), DossierComplaint.id.desc())
        )
        rows, total = await fetch_page(self.session, statement, offset=offset, limit=limit)
        return [(row[0], row[1]) for row in rows], total

    async def events(self, dossier_id: int) -> Sequence[DossierEvent]:
        statement = (
            select(DossierEvent)
            .where(DossierEvent.dossier_id == dossier_id)
            .order_by(DossierEvent.at, DossierEvent.id)
        )
        return (await self.session.scalars(statement)).all()

    async def documents(self, dossier_id: int) -> Sequence[DossierDocument]:
        statement = (
            select(DossierDocument)
            .where(DossierDocument.dossier_id == dossier_id)
            .order_by(DossierDocument.id)
        )
        return (await self.session.scalars(statement)).all()

    async def document(self, dossier_id: int, document_id: int) -> DossierDocument | None:
        return await self.session.scalar(
            select(DossierDocument).where(
                DossierDocument.dossier_id == dossier_id, DossierDocument.id == document_id
            )
        )

    async def status_counts(self: DossierRepository[WriteSession]) -> dict[int, int]:
        """How many dossiers are at each status: the tally, once the moves that the triggers
        appended since the last call are folded into it (DELETE ... RETURNING, so that two
        callers at once fold each move exactly once)."""
        moved = await self.session.execute(
            delete(DossierStatusMove)
            .returning(DossierStatusMove.status, DossierStatusMove.delta)
            .execution_options(synchronize_session=False)
        )
        changes: Counter[int] = Counter()
        for status, delta in moved.all():
            changes[status] += delta
        if changes:
            insert = dialect_insert(self.session, DossierStatusTally).values(
                [{"status": status, "dossiers": delta} for status, delta in changes.items()]
            )
            await self.session.execute(
                insert.on_conflict_do_update(
                    index_elements=["status"],
                    set_={"dossiers": DossierStatusTally.dossiers + insert.excluded.dossiers},
                )
            )
        tally = await self.session.execute(
            select(DossierStatusTally.status, DossierStatusTally.dossiers)
        )
        return dict(tally.all())
