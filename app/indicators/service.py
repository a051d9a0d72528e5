"""The indicators of a scope over a period, the ranking of provinces (or of a province's
agencies), and the shares over time: the rules of which period and which scope, over the counts
of the repository and the formulas of scoring.py. "Now" is the portal's clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from app.core.calendar import VIETNAM_TZ
from app.core.clock import Clock
from app.core.pagination import PageParams
from app.indicators.errors import InvalidPeriod, InvalidScope, UnknownScope
from app.indicators.repository import (
    NATIONAL_KEY,
    IndicatorRepository,
    Scope,
    ScopeKind,
    Window,
)
from app.indicators.schemas import (
    GroupOut,
    IndicatorOut,
    IndicatorsOut,
    PeriodOut,
    RankingEntry,
    RankingOut,
    SeriesPoint,
)
from app.indicators.scoring import Counts, Scorecard, scorecard

NATIONAL_NAME = "Toàn quốc"
MAX_PERIOD_DAYS = 3660  # ten years: a period is a quarter or a year, not a century
# The days a period may name: the portal's records lie well inside, and a period's arithmetic
# (the day after its last, Vietnam's midnight in UTC, a week's Monday) stays in the calendar.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
# A province's number as a province is numbered (01 to 96): ASCII digits, a few of them, so that
# neither '²' nor twenty digits reach int() or the database's small integer.
PROVINCE_NUMBER = re.compile(r"[0-9]{1,3}")
Step = Literal["day", "week"]


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date

    @property
    def out(self) -> PeriodOut:
        return PeriodOut.model_validate({"from": self.first, "to": self.last})


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


class IndicatorService:
    def __init__(self, repository: IndicatorRepository, clock: Clock) -> None:
        self.repository = repository
        self.clock = clock

    # -- inputs ---------------------------------------------------------------------------

    def today(self) -> date:
        return self.clock.now().astimezone(VIETNAM_TZ).date()

    def period(self, first: date | None, last: date | None) -> Period:
        """The days asked for; by default the current quarter up to today (portal's clock)."""
        for name, day in (("from", first), ("to", last)):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                raise InvalidPeriod(
                    f"{name} {day} is not between {FIRST_DAY} and {LAST_DAY}", field=name
                )
        today = self.today()
        first = first or quarter_start(last or today)
        last = last or max(first, today)
        if first > last:
            raise InvalidPeriod(f"from {first} is after to {last}", field="from")
        if (last - first).days >= MAX_PERIOD_DAYS:
            raise InvalidPeriod(f"a period spans at most {MAX_PERIOD_DAYS} days", field="to")
        return Period(first, last)

    def window(self, period: Period) -> Window:
        start = datetime.combine(period.first, time(0), VIETNAM_TZ).astimezone(UTC)
        end = datetime.combine(period.last + timedelta(days=1), time(0), VIETNAM_TZ).astimezone(UTC)
        return Window(start, end, min(end, self.clock.now()), period.first, period.last)

    async def scope(self, kind: ScopeKind, code: str | None) -> tuple[Scope, str]:
        """The scope and its name; 404 for a province or agency that does not exist."""
        if kind is ScopeKind.NATIONAL:
            return Scope(kind), NATIONAL_NAME
        if not code:
            raise InvalidScope(f"scope={kind} needs a code", field="code")
        if kind is ScopeKind.PROVINCE:
            known = PROVINCE_NUMBER.fullmatch(code)
            name = await self.repository.province_name(int(code)) if known else None
            if name is None:
                raise UnknownScope(f"no province {code}", field="code")
            agencies = await self.repository.agencies_of(int(code))
            return Scope(kind, str(int(code)), tuple(a for a, _ in agencies)), name
        agency = await self.repository.agency(code)
        if agency is None:
            raise UnknownScope(f"no agency {code}", field="code")
        return Scope(kind, code, (code,)), agency.name

    # -- outputs --------------------------------------------------------------------------

    async def indicators(
        self, kind: ScopeKind, code: str | None, first: date | None, last: date | None
    ) -> IndicatorsOut:
        scope, name = await self.scope(kind, code)
        return await self._scorecard(scope, name, self.period(first, last))

    async def _scorecard(self, scope: Scope, name: str, period: Period) -> IndicatorsOut:
        counts = (await self.repository.counts(scope, self.window(period))).get(
            NATIONAL_KEY, Counts()
        )
        return scorecard_out(scope, name, period, scorecard(counts), self.clock.now())

    async def dashboard(
        self,
        kind: ScopeKind,
        code: str | None,
        first: date | None,
        last: date | None,
        step: Step,
    ) -> tuple[IndicatorsOut, list[SeriesPoint], RankingOut | None]:
        """A dashboard page's figures: the scorecard, the series, and the ranking below the
        scope (the provinces under the country, a province's agencies under it). The scope's
        counts are the sum of its members' (one pass over the rows, not two), the catalogue's
        aside: a procedure offered in two provinces is one procedure of the country."""
        scope, name = await self.scope(kind, code)
        period = self.period(first, last)
        window = self.window(period)
        points = await self.series(scope, period, step)
        if kind is ScopeKind.AGENCY:
            return await self._scorecard(scope, name, period), points, None
        members = ScopeKind.PROVINCE if kind is ScopeKind.NATIONAL else ScopeKind.AGENCY
        names, found = await self._members(members, scope, window)
        total = Counts()
        for counts in found.values():
            total.add(counts)
        total.procedures, total.procedures_online = await self.repository.catalogue(scope)
        card = scorecard_out(scope, name, period, scorecard(total), self.clock.now())
        everything = PageParams(page=1, size=10_000)
        return card, points, self._ranking_out(members, scope, period, names, found, everything)

    async def ranking(
        self,
        kind: ScopeKind,
        code: str | None,
        first: date | None,
        last: date | None,
        page: PageParams,
    ) -> RankingOut:
        """Every province (kind=province), or every agency of province `code` (kind=agency),
        by total score, best first; ties by name."""
        period = self.period(first, last)
        if kind is ScopeKind.PROVINCE:
            within = Scope(ScopeKind.NATIONAL)
        elif kind is ScopeKind.AGENCY:
            within, _ = await self.scope(ScopeKind.PROVINCE, code)
        else:
            raise InvalidScope(
                "a ranking is of provinces or of a province's agencies", field="scope"
            )
        names, found = await self._members(kind, within, self.window(period))
        return self._ranking_out(kind, within, period, names, found, page)

    async def _members(
        self, kind: ScopeKind, within: Scope, window: Window
    ) -> tuple[dict[str, str], dict[str, Counts]]:
        """The provinces (or the province's agencies) by code with their names, and their
        counts."""
        if kind is ScopeKind.PROVINCE:
            names = {str(n): name for n, name in await self.repository.provinces()}
        else:
            names = dict(await self.repository.agencies_of(int(within.code or 0)))
        return names, await self.repository.counts(within, window, by=kind)

    def _ranking_out(
        self,
        kind: ScopeKind,
        within: Scope,
        period: Period,
        names: dict[str, str],
        found: dict[str, Counts],
        page: PageParams,
    ) -> RankingOut:
        entries = []
        for member, name in names.items():
            counts = found.get(member, Counts())
            card = scorecard(counts)
            entries.append(
                RankingEntry(
                    rank=0,
                    code=member,
                    name=name,
                    total_score=card.total_score,
                    max_score=card.total_max_score,
                    groups={g.config.id: g.score for g in card.groups},
                    received=counts.received,
                )
            )
        entries.sort(key=lambda e: (-e.total_score, e.name))
        for rank, entry in enumerate(entries, start=1):
            entry.rank = rank
        return RankingOut(
            scope=kind,
            code=within.code if kind is ScopeKind.AGENCY else None,
            period=period.out,
            items=entries[page.offset : page.offset + page.size],
            total=len(entries),
            page=page.page,
            size=page.size,
            computed_at=self.clock.now(),
        )

    async def series(self, scope: Scope, period: Period, step: Step) -> list[SeriesPoint]:
        """The online share and the on-time share per day or per week (weeks start on Monday;
        the first and last may be partial), every step of the period present."""
        daily = await self.repository.daily(scope, self.window(period))
        buckets: dict[date, dict[str, int]] = {}
        day = period.first
        while day <= period.last:
            start = day - timedelta(days=day.weekday()) if step == "week" else day
            bucket = buckets.setdefault(max(start, period.first), {})
            for name, value in daily.get(day, {}).items():
                bucket[name] = bucket.get(name, 0) + value
            day += timedelta(days=1)
        return [
            SeriesPoint(
                start=start,
                received=values.get("received", 0),
                received_online=values.get("received_online", 0),
                online_share=_share(values.get("received_online", 0), values.get("received", 0)),
                finished=values.get("finished_with_due", 0),
                finished_on_time=values.get("finished_on_time", 0),
                on_time_share=_share(
                    values.get("finished_on_time", 0), values.get("finished_with_due", 0)
                ),
            )
            for start, values in buckets.items()
        ]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def scorecard_out(
    scope: Scope, name: str, period: Period, card: Scorecard, computed_at: datetime
) -> IndicatorsOut:
    return IndicatorsOut(
        scope=scope.kind,
        code=scope.code,
        name=name,
        period=period.out,
        indicators=[
            IndicatorOut(
                id=r.config.id,
                group=r.config.group,
                name=r.config.name,
                basis=r.config.basis,
                unit=r.config.unit,
                numerator=r.numerator,
                denominator=r.denominator,
                value=r.value,
                score=r.score,
                max_score=r.config.max_score,
                threshold=r.threshold,
                reason=r.reason,
                parts=r.parts,
            )
            for r in card.indicators
        ],
        groups=[
            GroupOut(
                id=g.config.id,
                name=g.config.name,
                weight=g.config.weight,
                score=g.score,
                max_score=g.max_score,
            )
            for g in card.groups
        ],
        total_score=card.total_score,
        max_score=card.total_max_score,
        computed_at=computed_at,
    )
