"""The indicators' SQL: counts over one scope and one period, aggregated in the database, never a
dossier loaded. Each query reads one index range per agency of the scope
(`ix_dossiers_agency_submitted`, `ix_dossiers_agency_finished`), so a province's quarter does
not read the country's dossiers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    distinct,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalogue.models import Agency, AgencyField, Procedure, Province
from app.core.models import UTCDateTime
from app.dossiers.kinds import Channel
from app.dossiers.models import Dossier, DossierComplaint
from app.dossiers.states import Status
from app.indicators.scoring import Counts
from app.sync.models import SyncDailyStat

RESULTS = (int(Status.RESOLVED), int(Status.RESULT_RETURNED))
ONLINE_LEVELS = ("full", "partial")
NATIONAL_KEY = ""


class ScopeKind(StrEnum):
    NATIONAL = "national"
    PROVINCE = "province"
    AGENCY = "agency"


@dataclass(frozen=True, slots=True)
class Scope:
    kind: ScopeKind
    code: str | None = None  # a province's number, or an agency's code
    # The agencies it covers (a province's, or the one), given to the SQL as a list: with a
    # subquery instead, PostgreSQL could not tell a province's share of the rows and read the
    # whole table.
    agencies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Window:
    """A period as instants: [start, end), and `reference`, the instant at which open dossiers
    are judged: the period's end, or now if that is earlier."""

    start: datetime
    end: datetime
    reference: datetime
    first_day: date
    last_day: date


def _sum_if(condition: Any, value: Any = 1) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


class IndicatorRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    # -- what the scope is ----------------------------------------------------------------

    async def province_name(self, code: int) -> str | None:
        return await self.session.scalar(select(Province.name).where(Province.code == code))

    async def agency(self, code: str) -> Agency | None:
        return await self.session.get(Agency, code)

    async def provinces(self) -> Sequence[tuple[int, str]]:
        rows = await self.session.execute(select(Province.code, Province.name))
        return [(code, name) for code, name in rows.all()]

    async def agencies_of(self, province: int) -> Sequence[tuple[str, str]]:
        statement = select(Agency.code, Agency.name).where(Agency.province_code == province)
        return [(code, name) for code, name in (await self.session.execute(statement)).all()]

    # -- counts ---------------------------------------------------------------------------

    async def counts(
        self, scope: Scope, window: Window, *, by: ScopeKind | None = None
    ) -> dict[str, Counts]:
        """Counts per key: per province (`by=PROVINCE`, keys the province numbers as text), per
        agency (`by=AGENCY`), or one entry under NATIONAL_KEY for the whole scope."""
        found: dict[str, Counts] = {}

        def merge(rows: Sequence[Any], names: Sequence[str]) -> None:
            for key, *values in rows:
                counts = found.setdefault(_key(key), Counts())
                for name, value in zip(names, values, strict=True):
                    setattr(counts, name, getattr(counts, name) + (value or 0))

        for query, names in (
            *self._received(scope, window, by),
            self._finished(scope, window, by),
            *self._open_at_end(scope, window, by),
            self._synced(scope, window, by),
            self._catalogue(scope, by),
        ):
            merge((await self.session.execute(query)).all(), names)
        return found

    def _dossiers(
        self, scope: Scope, by: ScopeKind | None, columns: Sequence[ColumnElement[Any]]
    ) -> Select[Any]:
        key = _dossier_key(by)
        statement = select(key, *columns).select_from(Dossier)
        if by is ScopeKind.PROVINCE:
            statement = statement.join(Agency, Agency.code == Dossier.agency_code)
        statement = statement.where(_within(Dossier.agency_code, scope))
        return statement.group_by(key) if by is not None else statement

    def _received(
        self, scope: Scope, window: Window, by: ScopeKind | None
    ) -> list[tuple[Select[Any], tuple[str, ...]]]:
        received = (Dossier.submitted_at >= window.start, Dossier.submitted_at < window.end)
        statement = (
            self._dossiers(
                scope,
                by,
                [
                    func.count(),
                    _sum_if(Dossier.channel == int(Channel.ONLINE)),
                    _sum_if(Procedure.has_fees),
                    _sum_if(and_(Procedure.has_fees, Dossier.paid_online > 0)),
                ],
            )
            .join(Procedure, Procedure.code == Dossier.procedure_code)
            .where(*received)
        )
        names = ("received", "received_online", "received_fee_bearing", "received_paid_online")
        # From the complaints side (a few per hundred dossiers): a correlated EXISTS per
        # received dossier cost most of a national quarter's time.
        complained = (
            self._dossiers(scope, by, [func.count(distinct(DossierComplaint.dossier_id))])
            .join(DossierComplaint, DossierComplaint.dossier_id == Dossier.id)
            .where(*received)
        )
        return [(statement, names), (complained, ("received_with_complaint",))]

    def _finished(
        self, scope: Scope, window: Window, by: ScopeKind | None
    ) -> tuple[Select[Any], tuple[str, ...]]:
        due = Dossier.due_at.is_not(None)
        result = Dossier.status.in_(RESULTS)
        statement = self._dossiers(
            scope,
            by,
            [
                _sum_if(due),
                _sum_if(_finished_on_time()),
                _sum_if(due, self._hours(Dossier.finished_at, Dossier.accepted_at)),
                _sum_if(due, self._hours(Dossier.due_at, Dossier.accepted_at)),
                _sum_if(result),
                _sum_if(and_(result, Dossier.electronic_result)),
                _sum_if(and_(result, Dossier.electronic_result, Dossier.digitised)),
            ],
        ).where(Dossier.finished_at >= window.start, Dossier.finished_at < window.end)
        names = (
            "finished_with_due",
            "finished_on_time",
            "processing_hours",
            "allowed_hours",
            "finished_with_result",
            "result_electronic",
            "result_digitised",
        )
        return statement, names

    def _open_at_end(
        self, scope: Scope, window: Window, by: ScopeKind | None
    ) -> list[tuple[Select[Any], tuple[str, ...]]]:
        """Two queries, each one range of `ix_dossiers_agency_finished`: the dossiers still
        open, and those finished after the period's end. (One query with `IS NULL OR >=` made
        PostgreSQL read the whole table: 120 ms a province-quarter at a million dossiers.)"""
        reference = literal(window.reference, UTCDateTime())
        # While a supplement is awaited the clock stands still at the request (deadlines.py).
        judged_at = case(
            (
                and_(Dossier.paused_at.is_not(None), Dossier.paused_at < reference),
                Dossier.paused_at,
            ),
            else_=reference,
        )
        counted = [
            func.count(),
            _sum_if(and_(Dossier.supplement_requests <= 1, judged_at < Dossier.due_at)),
        ]
        names = ("open_at_end", "open_in_time")
        # Not finished within the period: not yet (never in the future), or after its end.
        return [
            (
                self._dossiers(scope, by, counted).where(
                    Dossier.due_at.is_not(None), Dossier.accepted_at < reference, unfinished
                ),
                names,
            )
            for unfinished in (Dossier.finished_at.is_(None), Dossier.finished_at >= window.end)
        ]

    def _synced(
        self, scope: Scope, window: Window, by: ScopeKind | None
    ) -> tuple[Select[Any], tuple[str, ...]]:
        if by is ScopeKind.PROVINCE:
            key: Any = Agency.province_code
        elif by is ScopeKind.AGENCY:
            key = SyncDailyStat.agency_code
        else:
            key = literal(NATIONAL_KEY)
        statement = select(
            key,
            func.coalesce(func.sum(SyncDailyStat.items), 0),
            func.coalesce(func.sum(SyncDailyStat.refused), 0),
        ).where(
            _within(SyncDailyStat.agency_code, scope),
            SyncDailyStat.day >= window.first_day,
            SyncDailyStat.day <= window.last_day,
        )
        if by is ScopeKind.PROVINCE:
            statement = statement.join(Agency, Agency.code == SyncDailyStat.agency_code)
        if by is not None:
            statement = statement.group_by(key)
        return statement, ("sync_items", "sync_refused")

    async def catalogue(self, scope: Scope) -> tuple[int, int]:
        """The scope's procedures, and how many of them are offered online (3.1)."""
        statement, _ = self._catalogue(scope, None)
        _, procedures, online = (await self.session.execute(statement)).one()
        return int(procedures or 0), int(online or 0)

    def _catalogue(self, scope: Scope, by: ScopeKind | None) -> tuple[Any, tuple[str, ...]]:
        online = Procedure.online_level.in_(ONLINE_LEVELS)
        names = ("procedures", "procedures_online")
        if scope.kind is ScopeKind.NATIONAL and by is None:
            statement = select(literal(NATIONAL_KEY), func.count(), _sum_if(online))
            return statement.select_from(Procedure), names
        # The procedures an agency receives: those of its fields at its level.
        key = Agency.province_code if by is ScopeKind.PROVINCE else Agency.code
        statement = (
            select(
                key if by is not None else literal(NATIONAL_KEY),
                func.count(distinct(Procedure.code)),
                func.count(distinct(case((online, Procedure.code)))),
            )
            .select_from(Agency)
            .join(AgencyField, AgencyField.agency_code == Agency.code)
            .join(
                Procedure,
                and_(
                    Procedure.field_code == AgencyField.field_code,
                    Procedure.agency_level == Agency.level,
                ),
            )
            .where(_within(Agency.code, scope))
        )
        return (statement.group_by(key) if by is not None else statement), names

    # -- over time ------------------------------------------------------------------------

    async def daily(self, scope: Scope, window: Window) -> dict[date, dict[str, int]]:
        """Per day of the period (Vietnam time): dossiers received and received online, and
        dossiers finished with a due date and finished on time."""
        days: dict[date, dict[str, int]] = {}
        submitted_day = self._local_day(Dossier.submitted_at)
        received = (
            select(submitted_day, func.count(), _sum_if(Dossier.channel == int(Channel.ONLINE)))
            .where(
                _within(Dossier.agency_code, scope),
                Dossier.submitted_at >= window.start,
                Dossier.submitted_at < window.end,
            )
            .group_by(submitted_day)
        )
        finished_day = self._local_day(Dossier.finished_at)
        due = Dossier.due_at.is_not(None)
        finished = (
            select(
                finished_day,
                _sum_if(due),
                _sum_if(_finished_on_time()),
            )
            .where(
                _within(Dossier.agency_code, scope),
                Dossier.finished_at >= window.start,
                Dossier.finished_at < window.end,
            )
            .group_by(finished_day)
        )
        for statement, names in (
            (received, ("received", "received_online")),
            (finished, ("finished_with_due", "finished_on_time")),
        ):
            for day, *values in (await self.session.execute(statement)).all():
                entry = days.setdefault(_as_date(day), {})
                entry.update(zip(names, (int(v or 0) for v in values), strict=True))
        return days

    def _hours(self, later: Any, earlier: Any) -> Any:
        if self.dialect == "sqlite":
            return (func.julianday(later) - func.julianday(earlier)) * 24.0
        return func.extract("epoch", later - earlier) / 3600.0

    def _local_day(self, column: Any) -> ColumnElement[Any]:
        # Instants are stored in UTC; a day of the dashboard is a day in Vietnam (UTC+7, no DST).
        if self.dialect == "sqlite":
            return func.date(column, "+7 hours")
        return func.date(func.timezone("Asia/Ho_Chi_Minh", column))


def _finished_on_time() -> ColumnElement[bool]:
    """Finished by its due date, with at most one supplement request (deadlines.classify)."""
    return and_(
        Dossier.due_at.is_not(None),
        Dossier.finished_at <= Dossier.due_at,
        Dossier.supplement_requests <= 1,
    )


def _within(agency_column: Any, scope: Scope) -> Any:
    if scope.kind is ScopeKind.NATIONAL:
        return true()
    return agency_column.in_(scope.agencies)


def _dossier_key(by: ScopeKind | None) -> Any:
    if by is ScopeKind.PROVINCE:
        return Agency.province_code
    if by is ScopeKind.AGENCY:
        return Dossier.agency_code
    return literal(NATIONAL_KEY)


def _key(value: Any) -> str:
    return NATIONAL_KEY if value is None else str(value)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
