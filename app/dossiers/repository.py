"""All SQL of dossiers, their events and documents."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, Generic

from sqlalchemy import (
    JSON,
    Row,
    String,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

from app.accounts.models import Account
from app.core.db import ReadConnection, SessionT, WriteSession
from app.core.models import table_of
from app.core.repository import fetch_page
from app.core.upsert import dialect_insert
from app.dossiers.kinds import ActorKind, Channel, EventOrigin
from app.dossiers.models import (
    AgencyInboxTally,
    Dossier,
    DossierCodeCounter,
    DossierComplaint,
    DossierDocument,
    DossierEvent,
    DossierStatusMove,
    DossierStatusTally,
)

# The look-ups of every request, built once: building a statement and its cache key took more
# of a look-up's time than PostgreSQL did (py-spy, benchmarks/hot_paths.py). Core rows: a row
# costs no ORM instance to build, and goes straight to JSON (presentation.py).
DOSSIERS = table_of(Dossier)
DossierRow = Row[Any]
_ROW_BY_CODE = select(DOSSIERS).where(DOSSIERS.c.code == bindparam("code"))
_ROW_BY_CODE_FOR_UPDATE = _ROW_BY_CODE.with_for_update()
_ROW_BY_ID = select(DOSSIERS).where(DOSSIERS.c.id == bindparam("id"))
_ROW_BY_ID_FOR_UPDATE = _ROW_BY_ID.with_for_update()
_ROW_BY_KEY = select(DOSSIERS).where(
    DOSSIERS.c.owner_id == bindparam("owner_id"), DOSSIERS.c.idempotency_key == bindparam("key")
)
_WAITING = select(AgencyInboxTally.waiting).where(
    AgencyInboxTally.agency_code == bindparam("agency_code")
)
# The default inbox (online, not yet acknowledged), which back offices poll: its page and its
# kept total in one statement, so one round trip. The page is outer-joined to one row, so an
# empty page still carries the total (on a row of NULL columns).
_WAITING_PAGE = (
    select(DOSSIERS)
    .where(
        DOSSIERS.c.agency_code == bindparam("agency_code"),
        DOSSIERS.c.channel == Channel.ONLINE,
        DOSSIERS.c.acked_at.is_(None),
    )
    .order_by(DOSSIERS.c.submitted_at, DOSSIERS.c.id)
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
    .subquery("page")
)
_WAITING_PAGE_AND_TOTAL = (
    select(_WAITING.scalar_subquery().label("inbox_total"), *_WAITING_PAGE.c)
    .select_from(select(literal(1)).subquery("one").outerjoin(_WAITING_PAGE, true()))
    .order_by(_WAITING_PAGE.c.submitted_at, _WAITING_PAGE.c.id)
)
ACCOUNTS = table_of(Account)
COUNTERS = table_of(DossierCodeCounter)
EVENTS = table_of(DossierEvent)
SUBMITTED = 1  # Status.SUBMITTED: the status module imports nothing of this one's


class DossierReader:
    """The hottest reads (a dossier by code, the agency's inbox): Core statements on a pooled
    read connection, with no ORM session around them."""

    def __init__(self, connection: ReadConnection) -> None:
        self.connection = connection

    async def row(self, code: str) -> DossierRow | None:
        return (await self.connection.execute(_ROW_BY_CODE, {"code": code})).first()

    async def agency_inbox(
        self,
        agency_code: str,
        *,
        status: int | None,
        include_acknowledged: bool,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[DossierRow], int]:
        if status is None and not include_acknowledged:
            # The default listing: its total is kept by the database (agency_inbox_tally).
            rows = (
                await self.connection.execute(
                    _WAITING_PAGE_AND_TOTAL,
                    {"agency_code": agency_code, "offset": offset, "limit": limit},
                )
            ).all()
            first = rows[0]._mapping
            return ([] if first["id"] is None else rows), first["inbox_total"] or 0
        columns = DOSSIERS.c
        conditions = [columns.agency_code == agency_code, columns.channel == Channel.ONLINE]
        if status is not None:
            conditions.append(columns.status == status)
        if not include_acknowledged:
            conditions.append(columns.acked_at.is_(None))
        statement = select(DOSSIERS).where(*conditions).order_by(columns.submitted_at, columns.id)
        return await fetch_page(self.connection, statement, offset=offset, limit=limit)


@dataclass(frozen=True, slots=True)
class OnlineSubmission:
    """An online dossier to insert, as plain values. `applicant` is None for the account
    holder (the statement reads the account's names); the identifier and kind of the account
    are added to it either way."""

    owner_id: int
    procedure_code: str
    agency_code: str
    processing_time: int
    processing_unit: str
    day: date  # the receipt day in Vietnam: the code's date and the counter's day
    applicant: dict[str, Any] | None
    form: dict[str, Any]
    note: str | None
    idempotency_key: str | None
    request_hash: str
    at: datetime
    max_sequence: int

    @property
    def code_prefix(self) -> str:
        return f"{self.agency_code}-{self.day:%y%m%d}-"


@dataclass(frozen=True, slots=True)
class Inserted:
    """What `insert_online` did: the new dossier, or None if it inserted none (the key was
    used, the account is gone, the day's numbers are all given out, or a concurrent submission
    with the same key won the race); `sequence`, the day's number it took, if it took one."""

    dossier: DossierRow | None
    sequence: int | None


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

    async def insert_online(
        self: DossierRepository[WriteSession], new: OnlineSubmission
    ) -> Inserted:
        """The dossier, its day's number and its first event, in one statement on PostgreSQL
        (data-modifying CTEs); SQLite, whose writers are serial and in-process, runs the same
        steps one statement at a time."""
        if self.session.get_bind().dialect.name == "postgresql":
            statement = _online_submission(
                tuple(_dossier_values(new)), tuple(_first_event_values(new))
            )
            row = (await self.session.execute(statement, _submission_values(new))).one()
            return Inserted(row if row.id is not None else None, row.taken)
        return await self._insert_online_stepwise(new)

    async def _insert_online_stepwise(
        self: DossierRepository[WriteSession], new: OnlineSubmission
    ) -> Inserted:
        if new.idempotency_key is not None and await self.row_by_idempotency_key(
            new.owner_id, new.idempotency_key
        ):
            return Inserted(None, None)
        account = (
            await self.session.execute(select(ACCOUNTS).where(ACCOUNTS.c.id == new.owner_id))
        ).first()
        if account is None:
            return Inserted(None, None)
        sequence = await self.next_sequence(new.agency_code, new.day, new.max_sequence)
        if sequence is None:
            return Inserted(None, None)
        holder = {"full_name": account.full_name, "phone": account.phone, "email": account.email}
        applicant = (holder if new.applicant is None else new.applicant) | {
            "identifier": account.identifier,
            "kind": account.kind,
        }
        dossier = (
            await self.session.execute(
                insert(DOSSIERS)
                .values(
                    _dossier_values(new)
                    | {"code": f"{new.code_prefix}{sequence:04d}", "applicant": applicant}
                )
                .returning(*DOSSIERS.c)
            )
        ).one()
        await self.session.execute(
            insert(EVENTS).values(
                _first_event_values(new) | {"dossier_id": dossier.id, "actor": account.identifier}
            )
        )
        return Inserted(dossier, sequence)

    async def give_back_sequence(
        self: DossierRepository[WriteSession], agency_code: str, day: date, sequence: int
    ) -> None:
        """Undo the taking of `sequence`, the last number of the day: this transaction still
        holds the counter's row, so nobody has taken a later one."""
        await self.session.execute(
            COUNTERS.update()
            .where(
                COUNTERS.c.agency_code == agency_code,
                COUNTERS.c.day == day,
                COUNTERS.c.last_seq == sequence,
            )
            .values(last_seq=sequence - 1)
        )

    async def account_exists(self, account_id: int) -> bool:
        return bool(await self.session.scalar(select(exists().where(ACCOUNTS.c.id == account_id))))

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

    async def row(self, code: str, *, for_update: bool = False) -> DossierRow | None:
        # FOR UPDATE serialises concurrent changes of one dossier on PostgreSQL; SQLite's write
        # transactions are serial already (BEGIN IMMEDIATE).
        statement = _ROW_BY_CODE_FOR_UPDATE if for_update else _ROW_BY_CODE
        return (await self.session.execute(statement, {"code": code})).first()

    async def row_by_id(self, dossier_id: int, *, for_update: bool = False) -> DossierRow:
        statement = _ROW_BY_ID_FOR_UPDATE if for_update else _ROW_BY_ID
        return (await self.session.execute(statement, {"id": dossier_id})).one()

    async def update(
        self: DossierRepository[WriteSession], dossier_id: int, values: dict[str, Any]
    ) -> DossierRow:
        """Set columns of one dossier; the row as it is now."""
        statement = (
            update(DOSSIERS)
            .where(DOSSIERS.c.id == dossier_id)
            .values(values)
            .returning(*DOSSIERS.c)
        )
        return (await self.session.execute(statement)).one()

    async def move(
        self: DossierRepository[WriteSession],
        dossier_id: int,
        values: dict[str, Any],
        event: dict[str, Any],
    ) -> DossierRow:
        """A status change: the dossier's new columns and the event of its timeline, in one
        statement on PostgreSQL (SQLite: one after the other); the row as it is now."""
        moved = (
            update(DOSSIERS)
            .where(DOSSIERS.c.id == dossier_id)
            .values(values)
            .returning(*DOSSIERS.c)
        )
        if self.session.get_bind().dialect.name != "postgresql":
            row = (await self.session.execute(moved)).one()
            await self.session.execute(insert(EVENTS).values(event | {"dossier_id": dossier_id}))
            return row
        changed = moved.cte("moved")
        given = [
            bindparam(f"e_{name}", value, type_=EVENTS.c[name].type)
            for name, value in event.items()
        ]
        recorded = (
            insert(EVENTS)
            .from_select(["dossier_id", *event], select(changed.c.id, *given))
            .cte("recorded")
        )
        return (await self.session.execute(select(changed).add_cte(recorded))).one()

    async def row_by_idempotency_key(self, owner_id: int, key: str) -> DossierRow | None:
        return (await self.session.execute(_ROW_BY_KEY, {"owner_id": owner_id, "key": key})).first()

    async def list_for_owner(
        self, owner_id: int, *, offset: int, limit: int
    ) -> tuple[Sequence[DossierRow], int]:
        statement = (
            select(DOSSIERS)
            .where(DOSSIERS.c.owner_id == owner_id)
            .order_by(DOSSIERS.c.submitted_at.desc(), DOSSIERS.c.id.desc())
        )
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


def _dossier_values(new: OnlineSubmission) -> dict[str, Any]:
    """The new dossier's columns that come from the submission itself."""
    return {
        "procedure_code": new.procedure_code,
        "agency_code": new.agency_code,
        "owner_id": new.owner_id,
        "status": SUBMITTED,
        "channel": Channel.ONLINE,
        "processing_time": new.processing_time,
        "processing_unit": new.processing_unit,
        "form": new.form,
        "idempotency_key": new.idempotency_key,
        "request_hash": new.request_hash,
        "submitted_at": new.at,
        "updated_at": new.at,
        "supplement_requests": 0,
        "digitised": False,
        "vneid_verified": False,
        "paid_online": 0,
        "electronic_result": False,
    }


def _first_event_values(new: OnlineSubmission) -> dict[str, Any]:
    return {
        "from_status": None,
        "to_status": SUBMITTED,
        "actor_kind": ActorKind.CITIZEN,
        "at": new.at,
        "note": new.note,
        "origin": EventOrigin.PORTAL,
        "applied": True,
    }


def _submission_values(new: OnlineSubmission) -> dict[str, Any]:
    return {
        "owner_id": new.owner_id,
        "key": new.idempotency_key,
        "agency_code": new.agency_code,
        "day": new.day,
        "max_sequence": new.max_sequence,
        "code_prefix": new.code_prefix,
        "given_applicant": new.applicant,
        **{f"d_{name}": value for name, value in _dossier_values(new).items()},
        **{f"e_{name}": value for name, value in _first_event_values(new).items()},
    }


@cache
def _online_submission(dossier_given: tuple[str, ...], event_given: tuple[str, ...]) -> Any:
    """PostgreSQL's submission: one statement, so one round trip (domain.md's numbering rules
    hold in it: the day's counter row is locked until commit, so numbers have no gaps).

    - `taken` increments the day's counter, unless the key was used already or the account is
      gone, and unless the day's numbers are all given out;
    - `dossier` inserts the dossier under that number; ON CONFLICT on (owner, key) leaves it to
      a concurrent submission with the same key that committed first (the caller then gives
      the number back and replays that one);
    - `event` inserts its first event (PostgreSQL runs every data-modifying CTE).
    The statement answers one row: the number taken (or NULL) and the new dossier (or NULLs).
    `dossier_given` and `event_given` name the columns it takes as parameters (the rest it
    computes): it is built once for them.
    """
    holder = select(ACCOUNTS).where(ACCOUNTS.c.id == bindparam("owner_id")).cte("holder")
    key_used = exists().where(
        DOSSIERS.c.owner_id == bindparam("owner_id"),
        DOSSIERS.c.idempotency_key == bindparam("key"),
    )
    counter = postgresql.insert(COUNTERS).from_select(
        ["agency_code", "day", "last_seq"],
        select(bindparam("agency_code"), bindparam("day"), literal(1)).where(
            ~key_used, exists(select(holder.c.id))
        ),
    )
    taken = (
        counter.on_conflict_do_update(
            index_elements=["agency_code", "day"],
            set_={"last_seq": COUNTERS.c.last_seq + 1},
            where=COUNTERS.c.last_seq < bindparam("max_sequence"),
        )
        .returning(COUNTERS.c.last_seq)
        .cte("taken")
    )
    number = cast(taken.c.last_seq, String)
    code = bindparam("code_prefix", type_=String) + case(
        (taken.c.last_seq < 10_000, func.lpad(number, 4, "0")), else_=number
    )
    identity = func.jsonb_build_object("identifier", holder.c.identifier, "kind", holder.c.kind)
    applicant = func.coalesce(
        cast(bindparam("given_applicant", type_=JSON(none_as_null=True)), JSONB),
        func.jsonb_build_object(
            "full_name", holder.c.full_name, "phone", holder.c.phone, "email", holder.c.email
        ),
    ).op("||")(identity)
    given = {name: bindparam(f"d_{name}", type_=DOSSIERS.c[name].type) for name in dossier_given}
    dossier = (
        postgresql.insert(DOSSIERS)
        .from_select(
            ["code", "applicant", *given],
            select(code, applicant, *given.values()).select_from(taken.join(holder, true())),
        )
        .on_conflict_do_nothing(index_elements=["owner_id", "idempotency_key"])
        .returning(*DOSSIERS.c)
        .cte("dossier")
    )
    event_params = {name: bindparam(f"e_{name}", type_=EVENTS.c[name].type) for name in event_given}
    event = (
        insert(EVENTS)
        .from_select(
            ["dossier_id", "actor", *event_params],
            select(dossier.c.id, holder.c.identifier, *event_params.values()).select_from(
                dossier.join(holder, true())
            ),
        )
        .cte("event")
    )
    answer = select(
        select(taken.c.last_seq).scalar_subquery().label("taken"), *dossier.c
    ).select_from(select(literal(1)).subquery().outerjoin(dossier, true()))
    return answer.add_cte(event)
