"""Working-time calendar for statutory processing deadlines.

A dossier's due date is its acceptance time plus the procedure's processing time counted in
*working time*: weekends and public holidays do not count, compensatory working Saturdays do, and
each working day contributes only its office-hour windows (07:30-11:30 and 13:00-17:00 by
default, i.e. 8 hours). Dossiers received after the daily cut-off (15:00 by default) count from the
next working day.

Public holidays (Labour Code 2019 art. 112 and the government's announced swaps) come from the
``holidays`` package. It records a swap only as the extra day off, never as the Saturday worked in
exchange, so the Saturdays live in ``WORKING_SATURDAYS`` below. Because the package may list
observances that public offices do not actually close for (e.g. "Vietnam Cultural Day", 24/11,
listed from 2026), the holiday set is configurable per calendar.

All arithmetic happens in local wall-clock time of the configured zone and results are returned in
UTC, which is what the application stores. The module is pure: no I/O or database, and the one
function that reads settings (`calendar_from_settings`) reads those it is handed.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from app.core.config import Settings

__all__ = [
    "DEFAULT_WINDOWS",
    "VIETNAM_TZ",
    "WORKING_SATURDAYS",
    "ProcessingUnit",
    "WorkingCalendar",
    "calendar_from_settings",
]

DEFAULT_WINDOWS: tuple[tuple[time, time], ...] = (
    (time(7, 30), time(11, 30)),
    (time(13, 0), time(17, 0)),
)
VIETNAM_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

ProcessingUnit = Literal["working_day", "working_hour"]

_PACKAGE_RECORD = "python-holidays 0.108 records the day off as 'Day off (substituted from {})'"

# Saturdays worked in exchange for a weekday given off. The holidays package lists only the day
# off, so without this table a swap would silently shorten every deadline spanning it by a day.
# tests/core/test_calendar.py fails if the package names a swapped Saturday missing from here.
# Before 2024 only the swaps the package itself records are included; older Tết swaps that the
# package does not record (like 2025's, below) are not.
WORKING_SATURDAYS: Mapping[date, str] = MappingProxyType(
    {
        date(2010, 2, 27): "Tết 2010 swap for public offices: Fri 19 Feb 2010 off. "
        + _PACKAGE_RECORD.format("02/27/2010"),
        date(2012, 2, 4): "Tết 2012 swap for public offices: Fri 27 Jan 2012 off. "
        + _PACKAGE_RECORD.format("02/04/2012"),
        date(2013, 5, 4): "30/4-1/5 2013 swap for public offices: Mon 29 Apr 2013 off. "
        + _PACKAGE_RECORD.format("05/04/2013"),
        date(2014, 4, 26): "30/4-1/5 2014 swap for public offices: Fri 2 May 2014 off. "
        + _PACKAGE_RECORD.format("04/26/2014"),
        date(2014, 9, 6): "National Day 2014 swap for public offices: Mon 1 Sep 2014 off. "
        + _PACKAGE_RECORD.format("09/06/2014"),
        date(2014, 12, 27): "New Year 2015 swap for public offices: Fri 2 Jan 2015 off. "
        + _PACKAGE_RECORD.format("12/27/2014"),
        date(2015, 2, 14): "Tết 2015 swap for public offices: Mon 16 Feb 2015 off. "
        + _PACKAGE_RECORD.format("02/14/2015"),
        date(2015, 4, 25): "30/4-1/5 2015 swap for public offices: Wed 29 Apr 2015 off. "
        + _PACKAGE_RECORD.format("04/25/2015"),
        date(2019, 1, 5): "New Year 2019 swap for public offices: Mon 31 Dec 2018 off "
        "(Government Office dispatch on 2019 holidays for the public sector, cited by the "
        "package). " + _PACKAGE_RECORD.format("01/05/2019"),
        date(2019, 5, 4): "30/4-1/5 2019 swap for public offices: Mon 29 Apr 2019 off. "
        + _PACKAGE_RECORD.format("05/04/2019"),
        date(2024, 5, 4): "30/4-1/5 2024 swap for officials and public employees approved by the "
        "Prime Minister and relayed by a Government Office dispatch (the package's 2024 "
        "reference): Mon 29 Apr 2024 off. " + _PACKAGE_RECORD.format("05/04/2024"),
        date(2025, 2, 8): "Tết 2025 schedule for officials and public employees, approved by the "
        "Prime Minister and announced by the Ministry of Labour, Invalids and Social Affairs in "
        "late 2024 (the package's 2025 reference): 9 days off Sat 25 Jan - Sun 2 Feb 2025, with "
        "Mon 27 Jan worked on Sat 8 Feb. The package has Mon 27 Jan off only as the Saturday "
        "'Fourth Day of Lunar New Year' moved back, labelled '29 of Lunar New Year', and does "
        "not know Sat 8 Feb is worked.",
        date(2025, 4, 26): "30/4-1/5 2025 swap for officials and public employees approved by the "
        "government: Fri 2 May 2025 off. " + _PACKAGE_RECORD.format("04/26/2025"),
        date(2026, 8, 22): "National Day 2026 swap for officials and public employees, as reported "
        "by the thuvienphapluat.vn legal Q&A page the package cites for 2026: Mon 31 Aug 2026 off. "
        + _PACKAGE_RECORD.format("08/22/2026"),
    }
)

_ZERO = timedelta(0)
_OBSERVED_SUFFIX = " (observed)"
_EXTRA_DAY_OFF_NAME = "Day off (configured)"


@cache
def _package_holidays(year: int) -> Mapping[date, tuple[str, ...]]:
    """The holidays package's VN holidays for one year, names in English.

    Cached at module level because building the package object costs ~10 ms a year and every
    calendar instance needs the same data. The language is pinned: left unset the package picks
    it from the process locale, and ignored_holiday_names would then stop matching.
    """
    # Imported here: the package takes a quarter of a second to import, which every worker
    # would otherwise pay before its health ping; the first year looked up pays it instead.
    import holidays

    listed = holidays.country_holidays("VN", years=year, language="en_US")
    return MappingProxyType({day: tuple(listed.get_list(day)) for day in listed})


@dataclass(frozen=True, slots=True)
class _Year:
    working: tuple[int, ...]  # ordinals of the year's working days, ascending (for bisect)
    members: frozenset[int]


def _offset(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value!r}")


class WorkingCalendar:
    """Working days and working hours of a public-service office.

    Windows are closed at their end for results: a duration that runs out exactly at a window's
    end yields that end (07:30 + 8h = 17:00), because the deadline is "by close of business", not
    "at the next opening".
    """

    def __init__(
        self,
        *,
        windows: Sequence[tuple[time, time]] = DEFAULT_WINDOWS,
        cutoff: time = time(15, 0),
        tz: ZoneInfo = VIETNAM_TZ,
        extra_days_off: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        ignored_holiday_names: Iterable[str] = (),
    ) -> None:
        windows = tuple((start, end) for start, end in windows)
        if not windows:
            raise ValueError("at least one working window is required")
        for start, end in windows:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("working windows are local wall-clock times and must be naive")
            if not start < end:
                raise ValueError(f"working window {start}-{end} must start before it ends")
        for (_, previous_end), (next_start, _) in pairwise(windows):
            if next_start < previous_end:
                raise ValueError("working windows must be sorted and must not overlap")
        if cutoff.tzinfo is not None:
            raise ValueError("the cut-off is a local wall-clock time and must be naive")

        self._cutoff_offset = _offset(cutoff)
        self._tz = tz
        self._spans = tuple((_offset(start), _offset(end)) for start, end in windows)
        before: list[timedelta] = []
        total = _ZERO
        for opens, closes in self._spans:
            before.append(total)
            total += closes - opens
        self._worked_before_span = tuple(before)
        self._day_length = total

        self._extra_days_off = frozenset(extra_days_off)
        self._extra_working_days = frozenset(extra_working_days)
        clash = self._extra_days_off & self._extra_working_days
        if clash:
            raise ValueError(f"days both off and working: {sorted(clash)}")
        # Ignoring a holiday also ignores its "(observed)" replacement day: if offices do not
        # close for the holiday, they do not close in lieu of it either.
        names = frozenset(ignored_holiday_names)
        self._ignored_names = names | {name + _OBSERVED_SUFFIX for name in names}
        self._years: dict[int, _Year] = {}

    # -- days -------------------------------------------------------------------------------

    @property
    def working_day_length(self) -> timedelta:
        return self._day_length

    def holiday_name(self, day: date) -> str | None:
        """Why `day` is off beyond the weekend, or None (also None for any forced working day)."""
        if day in self._extra_working_days:
            return None
        if day in WORKING_SATURDAYS and day not in self._extra_days_off:
            return None
        names = [
            name
            for name in _package_holidays(day.year).get(day, ())
            if name not in self._ignored_names
        ]
        if names:
            return "; ".join(names)
        if day in self._extra_days_off:
            return _EXTRA_DAY_OFF_NAME
        return None

    def is_working_day(self, day: date) -> bool:
        return day.toordinal() in self._year(day.year).members

    def _compute_is_working_day(self, day: date) -> bool:
        if day in self._extra_working_days:
            return True
        if day in self._extra_days_off:
            return False
        if day in WORKING_SATURDAYS:
            return True
        return day.weekday() < 5 and self.holiday_name(day) is None

    def _year(self, year: int) -> _Year:
        # Lazily per year: any year works, and a year is classified once, not on every lookup.
        # A race between threads merely computes the same value twice.
        cached = self._years.get(year)
        if cached is None:
            first = date(year, 1, 1).toordinal()
            last = date(year, 12, 31).toordinal()
            working = tuple(
                o
                for o in range(first, last + 1)
                if self._compute_is_working_day(date.fromordinal(o))
            )
            cached = self._years[year] = _Year(working, frozenset(working))
        return cached

    def _nth_working_day(self, first: int, n: int) -> int:
        """Ordinal of the working day `n` working days after the first one on/after `first`."""
        year = date.fromordinal(first).year
        table = self._year(year)
        index = bisect_left(table.working, first)
        while index + n >= len(table.working):
            n -= len(table.working) - index
            year += 1
            table = self._year(year)
            index = 0
        return table.working[index + n]

    def _count_working_days(self, first: int, stop: int) -> int:
        """Number of working days with ordinal in [first, stop)."""
        if stop <= first:
            return 0
        count = 0
        for year in range(date.fromordinal(first).year, date.fromordinal(stop - 1).year + 1):
            working = self._year(year).working
            count += bisect_left(working, stop) - bisect_left(working, first)
        return count

    # -- instants within a day ----------------------------------------------------------------

    def _worked_before(self, of_day: timedelta) -> timedelta:
        """Working time of a working day that lies before the given time of day."""
        total = _ZERO
        for start, end in self._spans:
            if of_day <= start:
                break
            total += min(of_day, end) - start
        return total

    def _time_of_day_after(self, worked: timedelta) -> timedelta:
        """Time of day when `worked` (0 < worked <= day length) of the day's work has elapsed."""
        for (start, end), before in zip(self._spans, self._worked_before_span, strict=True):
            # "<=" picks the window end rather than the next window's start on an exact fit.
            if worked <= before + (end - start):
                return start + (worked - before)
        raise AssertionError("worked time exceeds the working day")  # pragma: no cover

    def _to_local(self, value: datetime, what: str) -> tuple[int, timedelta]:
        _require_aware(value, what)
        local = value.astimezone(self._tz)
        return local.toordinal(), timedelta(
            hours=local.hour,
            minutes=local.minute,
            seconds=local.second,
            microseconds=local.microsecond,
        )

    def _to_utc(self, ordinal: int, of_day: timedelta) -> datetime:
        wall = datetime.combine(date.fromordinal(ordinal), time()) + of_day
        return wall.replace(tzinfo=self._tz).astimezone(UTC)

    def _opening_after(self, ordinal: int) -> datetime:
        """First window start of the first working day strictly after the given day."""
        return self._to_utc(self._nth_working_day(ordinal + 1, 0), self._spans[0][0])

    def _next_working_instant(
        self, ordinal: int, of_day: timedelta, *, end_counts: bool
    ) -> datetime:
        if ordinal in self._year(date.fromordinal(ordinal).year).members:
            for start, end in self._spans:
                if of_day < start:
                    return self._to_utc(ordinal, start)
                if of_day < end or (end_counts and of_day == end):
                    return self._to_utc(ordinal, of_day)
        return self._opening_after(ordinal)

    # -- public arithmetic ----------------------------------------------------------------

    def clock_start(self, received_at: datetime) -> datetime:
        ordinal, of_day = self._to_local(received_at, "received_at")
        if of_day > self._cutoff_offset:
            return self._opening_after(ordinal)
        # Window ends do not count here: received at 11:30, work can first start at 13:00.
        return self._next_working_instant(ordinal, of_day, end_counts=False)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        if duration < _ZERO:
            raise ValueError(f"duration must not be negative, got {duration}")
        ordinal, of_day = self._to_local(start, "start")
        if not duration:
            return self._next_working_instant(ordinal, of_day, end_counts=True)

        remaining = duration
        if self.is_working_day(date.fromordinal(ordinal)):
            used = self._worked_before(of_day)
            if used + remaining <= self._day_length:
                return self._to_utc(ordinal, self._time_of_day_after(used + remaining))
            remaining -= self._day_length - used
        # Whole days are skipped in one step; the last day gets a share in (0, day length] so an
        # exact multiple of a day ends at that day's close rather than the next day's opening.
        whole_days, rest = divmod(remaining, self._day_length)
        if not rest:
            whole_days -= 1
            rest = self._day_length
        last_day = self._nth_working_day(ordinal + 1, whole_days)
        return self._to_utc(last_day, self._time_of_day_after(rest))

    def between(self, start: datetime, end: datetime) -> timedelta:
        start_ordinal, start_of_day = self._to_local(start, "start")
        end_ordinal, end_of_day = self._to_local(end, "end")
        if end <= start:
            return _ZERO
        if start_ordinal == end_ordinal:
            if not self.is_working_day(date.fromordinal(start_ordinal)):
                return _ZERO
            return self._worked_before(end_of_day) - self._worked_before(start_of_day)
        total = self._day_length * self._count_working_days(start_ordinal + 1, end_ordinal)
        if self.is_working_day(date.fromordinal(start_ordinal)):
            total += self._day_length - self._worked_before(start_of_day)
        if self.is_working_day(date.fromordinal(end_ordinal)):
            total += self._worked_before(end_of_day)
        return total

    def due_at(self, accepted_at: datetime, processing_time: int, unit: ProcessingUnit) -> datetime:
        if processing_time < 0:
            raise ValueError(f"processing_time must not be negative, got {processing_time}")
        if unit == "working_day":
            duration = self._day_length * processing_time
        elif unit == "working_hour":
            duration = timedelta(hours=processing_time)
        else:
            raise ValueError(f"unknown processing unit {unit!r}")
        return self.add(self.clock_start(accepted_at), duration)


def calendar_from_settings(settings: Settings) -> WorkingCalendar:
    """The calendar the settings describe: the portal's, and the load harness's copy of it."""
    return WorkingCalendar(
        windows=settings.calendar_windows,
        cutoff=settings.calendar_cutoff,
        extra_days_off=settings.calendar_extra_days_off,
        extra_working_days=settings.calendar_extra_working_days,
        ignored_holiday_names=settings.calendar_ignored_holidays,
    )
