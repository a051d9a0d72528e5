"""Tests for the working-time calendar behind statutory due dates.

Hand-checked cases use the default office hours (07:30-11:30, 13:00-17:00, 8 h a day, cut-off
15:00). Property tests use full microsecond resolution: timedelta arithmetic is exact integer
microseconds and Asia/Ho_Chi_Minh has a fixed offset, so round trips must hold exactly. Only the
minute-stepping reference implementation works in whole minutes, because it counts minutes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone

import holidays
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.core.calendar import (
    DEFAULT_WINDOWS,
    VIETNAM_TZ,
    WORKING_SATURDAYS,
    ProcessingUnit,
    WorkingCalendar,
    _package_holidays,
)

CAL = WorkingCalendar()
DAY = timedelta(hours=8)
MINUTE = timedelta(minutes=1)
MICROSECOND = timedelta(microseconds=1)
Windows = tuple[tuple[time, time], ...]


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM_TZ)


def local(value: datetime) -> datetime:
    return value.astimezone(VIETNAM_TZ)


def in_working_time(calendar: WorkingCalendar, windows: Windows, value: datetime) -> bool:
    """On a working day and inside a window, window ends included."""
    wall = local(value)
    return calendar.is_working_day(wall.date()) and any(
        start <= wall.time() <= end for start, end in windows
    )


# -- hand-checked due dates -------------------------------------------------------------------

DUE_DATES = [
    pytest.param(
        # Fri 10:00 has 1.5 h + 4 h = 5.5 h left; 16 h - 5.5 h = 10.5 h still due. Sat 14/Sun 15,
        # Tết Mon 16 - Fri 20, Sat 21/Sun 22 skipped; Mon 23 gives 8 h; Tue 24 07:30 + 2.5 h.
        vn(2026, 2, 13, 10),
        2,
        vn(2026, 2, 24, 10),
        id="tet-2026",
    ),
    pytest.param(
        # Thu 12 Feb 16:00 is after the cut-off, so the clock starts Fri 13 07:30 and one day ends
        # at Fri 17:00, before Tết.
        vn(2026, 2, 12, 16),
        1,
        vn(2026, 2, 13, 17),
        id="tet-2026-eve-of-break",
    ),
    pytest.param(
        # Fri 24 Apr 09:00 + 1 day -> (Sat 25, Sun 26 Hùng Kings on a Sunday, Mon 27 its observed
        # day off) Tue 28 09:00; +1 -> Wed 29 09:00; +1 -> (Thu 30/4, Fri 1/5, weekend) Mon 4 May.
        vn(2026, 4, 24, 9),
        3,
        vn(2026, 5, 4, 9),
        id="hung-kings-30-4-1-5-2026",
    ),
    pytest.param(
        # Tue 29 Apr 2025 10:00: 5.5 h left; Wed 30/4, Thu 1/5 and swapped Fri 2/5 off, weekend;
        # Mon 5 May 8 h (13.5 h); Tue 6 May 07:30 + 2.5 h.
        vn(2025, 4, 29, 10),
        2,
        vn(2025, 5, 6, 10),
        id="30-4-1-5-2025-with-swapped-friday",
    ),
    pytest.param(
        # Fri 25 Apr 2025 10:00: 5.5 h left, Sat 26 Apr is the compensatory working Saturday:
        # 07:30 + 2.5 h.
        vn(2025, 4, 25, 10),
        1,
        vn(2025, 4, 26, 10),
        id="working-saturday-2025-04-26",
    ),
    pytest.param(
        # Fri 29 Aug 2025 14:00: 3 h left; weekend, Mon 1/9 and Tue 2/9 off; Wed 3 Sep needs 5 h:
        # 07:30-11:30 (4 h) then 13:00 + 1 h.
        vn(2025, 8, 29, 14),
        1,
        vn(2025, 9, 3, 14),
        id="national-day-2025",
    ),
    pytest.param(
        # Fri 28 Aug 2026 08:00: 3.5 h + 4 h = 7.5 h left; weekend, Mon 31 Aug (swap), Tue 1/9
        # and Wed 2/9 off; Thu 3 Sep 07:30 + 0.5 h.
        vn(2026, 8, 28, 8),
        1,
        vn(2026, 9, 3, 8),
        id="national-day-2026-with-swapped-monday",
    ),
    pytest.param(
        # Fri 21 Aug 2026 10:00: 5.5 h left; Sat 22 Aug is worked: 07:30 + 2.5 h.
        vn(2026, 8, 21, 10),
        1,
        vn(2026, 8, 22, 10),
        id="working-saturday-2026-08-22",
    ),
    pytest.param(
        # Fri 24 Jan 2025 10:00: 5.5 h left; weekend, Mon 27 - Fri 31 Jan Tết, weekend; Mon 3 Feb
        # 8 h (13.5 h); Tue 4 Feb 07:30 + 2.5 h.
        vn(2025, 1, 24, 10),
        2,
        vn(2025, 2, 4, 10),
        id="tet-2025",
    ),
    pytest.param(
        # Fri 7 Feb 2025 10:00: 5.5 h left; Sat 8 Feb is worked for the Tết swap: 07:30 + 2.5 h.
        vn(2025, 2, 7, 10),
        1,
        vn(2025, 2, 8, 10),
        id="working-saturday-2025-02-08",
    ),
    pytest.param(
        # Fri 7 Mar 2025 10:00: 5.5 h left; weekend; Mon 10 Mar 07:30 + 2.5 h.
        vn(2025, 3, 7, 10),
        1,
        vn(2025, 3, 10, 10),
        id="weekend",
    ),
    pytest.param(
        # Received 15:01, after the cut-off: the clock starts Thu 07:30; 8 h end at 17:00.
        vn(2025, 3, 12, 15, 1),
        1,
        vn(2025, 3, 13, 17),
        id="after-cutoff",
    ),
    pytest.param(
        # Received 14:59: 2 h 01 min left on Wed; Thu needs 5 h 59 min: 4 h to 11:30, 13:00 + 1:59.
        vn(2025, 3, 12, 14, 59),
        1,
        vn(2025, 3, 13, 14, 59),
        id="before-cutoff",
    ),
    pytest.param(
        # Received at lunch: the clock starts 13:00, so one day is Wed 13:00-17:00 (4 h) plus Thu
        # 07:30-11:30 (4 h), ending at the window end, not at 13:00.
        vn(2025, 3, 12, 12),
        1,
        vn(2025, 3, 13, 11, 30),
        id="lunch",
    ),
    pytest.param(
        # Received 06:45: the clock starts 07:30 the same day; 8 h end at 17:00.
        vn(2025, 3, 12, 6, 45),
        1,
        vn(2025, 3, 12, 17),
        id="before-opening",
    ),
    pytest.param(
        # Received on a Saturday: the clock starts Mon 07:30.
        vn(2025, 3, 15, 10),
        1,
        vn(2025, 3, 17, 17),
        id="received-on-saturday",
    ),
    pytest.param(
        # Zero processing time: due when the clock starts.
        vn(2025, 3, 12, 12),
        0,
        vn(2025, 3, 12, 13),
        id="zero-days",
    ),
]


@pytest.mark.parametrize(("accepted", "days", "due"), DUE_DATES)
def test_due_dates_in_working_days(accepted: datetime, days: int, due: datetime) -> None:
    result = CAL.due_at(accepted, days, "working_day")
    assert local(result) == due
    assert result.tzinfo is UTC
    assert CAL.between(CAL.clock_start(accepted), result) == days * DAY


@pytest.mark.parametrize(
    ("accepted", "hours", "due"),
    [
        # 10:00-11:30 is 1.5 h, the remaining 2.5 h run from 13:00.
        pytest.param(vn(2025, 3, 12, 10), 4, vn(2025, 3, 12, 15, 30), id="four-hours"),
        # Exactly the morning window: ends at 11:30, not 13:00.
        pytest.param(vn(2025, 3, 12, 7, 30), 4, vn(2025, 3, 12, 11, 30), id="morning"),
        # 14:00-17:00 is exactly 3 h: due at closing time, not at the next opening.
        pytest.param(vn(2025, 3, 12, 14), 3, vn(2025, 3, 12, 17), id="to-closing"),
        # Tue 11 Mar 14:00: 3 h; Wed, Thu, Fri 24 h (27 h); weekend; Mon 17 8 h (35 h);
        # Tue 18 07:30 + 1 h.
        pytest.param(vn(2025, 3, 11, 14), 36, vn(2025, 3, 18, 8, 30), id="over-a-weekend"),
    ],
)
def test_due_dates_in_working_hours(accepted: datetime, hours: int, due: datetime) -> None:
    assert local(CAL.due_at(accepted, hours, "working_hour")) == due


def test_whole_days_end_at_closing_time_not_next_opening() -> None:
    assert local(CAL.add(vn(2025, 3, 12, 7, 30), DAY)) == vn(2025, 3, 12, 17)
    assert local(CAL.add(vn(2025, 3, 12, 7, 30), 5 * DAY)) == vn(2025, 3, 18, 17)
    assert local(CAL.add(vn(2025, 3, 12, 7, 30), DAY + MICROSECOND)) == vn(
        2025, 3, 13, 7, 30
    ) + timedelta(microseconds=1)


def test_start_outside_working_time_moves_to_next_window() -> None:
    assert local(CAL.add(vn(2025, 3, 12, 12), timedelta(0))) == vn(2025, 3, 12, 13)
    assert local(CAL.add(vn(2025, 3, 12, 18), timedelta(hours=1))) == vn(2025, 3, 13, 8, 30)
    assert local(CAL.add(vn(2025, 3, 15, 9), timedelta(0))) == vn(2025, 3, 17, 7, 30)


def test_inputs_in_any_zone_give_the_same_instant() -> None:
    # 03:00 UTC and 22:00 the previous day at UTC-5 are both 10:00 in Hanoi.
    utc = datetime(2026, 2, 13, 3, tzinfo=UTC)
    minus_five = datetime(2026, 2, 12, 22, tzinfo=timezone(timedelta(hours=-5)))
    assert CAL.due_at(utc, 2, "working_day") == CAL.due_at(minus_five, 2, "working_day")
    assert local(CAL.due_at(utc, 2, "working_day")) == vn(2026, 2, 24, 10)


# -- clock start ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "starts"),
    [
        pytest.param(vn(2025, 3, 12, 14, 59), vn(2025, 3, 12, 14, 59), id="before-cutoff"),
        pytest.param(vn(2025, 3, 12, 15), vn(2025, 3, 12, 15), id="at-cutoff"),
        pytest.param(vn(2025, 3, 12, 15, 1), vn(2025, 3, 13, 7, 30), id="after-cutoff"),
        pytest.param(vn(2025, 3, 14, 15, 1), vn(2025, 3, 17, 7, 30), id="friday-after-cutoff"),
        pytest.param(vn(2025, 3, 12, 12), vn(2025, 3, 12, 13), id="lunch"),
        pytest.param(vn(2025, 3, 12, 11, 30), vn(2025, 3, 12, 13), id="morning-close"),
        pytest.param(vn(2025, 3, 12, 6), vn(2025, 3, 12, 7, 30), id="before-opening"),
        pytest.param(vn(2025, 3, 12, 0), vn(2025, 3, 12, 7, 30), id="midnight"),
        pytest.param(vn(2025, 3, 15, 9), vn(2025, 3, 17, 7, 30), id="saturday"),
        pytest.param(vn(2026, 2, 13, 16), vn(2026, 2, 23, 7, 30), id="before-tet-2026"),
        pytest.param(vn(2025, 4, 25, 16), vn(2025, 4, 26, 7, 30), id="to-working-saturday"),
        pytest.param(vn(2026, 8, 22, 15, 30), vn(2026, 8, 24, 7, 30), id="working-saturday"),
    ],
)
def test_clock_start(received: datetime, starts: datetime) -> None:
    assert local(CAL.clock_start(received)) == starts


# -- the holiday set --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working", "name"),
    [
        (date(2026, 2, 13), True, None),
        (date(2026, 2, 16), False, "Lunar New Year's Eve"),
        (date(2026, 2, 20), False, "Fourth Day of Lunar New Year"),
        (date(2026, 2, 23), True, None),
        (date(2026, 4, 27), False, "Hung Kings' Commemoration Day (observed)"),
        (date(2026, 4, 28), True, None),
        (date(2026, 4, 30), False, "Liberation Day/Reunification Day"),
        (date(2026, 5, 1), False, "International Labor Day"),
        (date(2025, 9, 1), False, "National Day"),
        (date(2025, 9, 2), False, "National Day"),
        (date(2025, 9, 3), True, None),
        (date(2026, 8, 31), False, "Day off (substituted from 08/22/2026)"),
        (date(2026, 9, 2), False, "National Day"),
        (date(2026, 8, 22), True, None),
        (date(2025, 4, 26), True, None),
        (date(2025, 5, 2), False, "Day off (substituted from 04/26/2025)"),
        (date(2025, 1, 27), False, "29 of Lunar New Year"),
        (date(2025, 2, 8), True, None),
        (date(2025, 2, 15), False, None),  # an ordinary Saturday
        (date(2025, 2, 16), False, None),  # an ordinary Sunday
        (date(2026, 11, 24), False, "Vietnam Cultural Day"),
        # Years far from the tested range are classified too.
        (date(2040, 9, 3), False, "National Day"),
        (date(2040, 9, 4), False, "National Day (observed)"),
        (date(2040, 9, 5), True, None),
    ],
)
def test_working_days_and_holiday_names(day: date, working: bool, name: str | None) -> None:
    assert CAL.is_working_day(day) is working
    assert CAL.holiday_name(day) == name


def test_every_weekday_off_is_named_and_every_named_day_is_off() -> None:
    day = date(2024, 1, 1)
    while day.year < 2028:
        name = CAL.holiday_name(day)
        if CAL.is_working_day(day):
            assert name is None, day
            assert day.weekday() < 5 or day in WORKING_SATURDAYS, day
        elif day.weekday() < 5:
            assert name is not None, day
        day += timedelta(days=1)


def test_ignoring_a_holiday_name_makes_it_a_working_day() -> None:
    calendar = WorkingCalendar(ignored_holiday_names=["Vietnam Cultural Day"])
    assert calendar.is_working_day(date(2026, 11, 24))
    assert calendar.holiday_name(date(2026, 11, 24)) is None
    # Its weekday replacement goes too: 24/11/2029 is a Saturday, observed Mon 26/11.
    assert not CAL.is_working_day(date(2029, 11, 26))
    assert calendar.is_working_day(date(2029, 11, 26))
    # Mon 23 Nov 2026 10:00 + 1 day: Tue 24 10:00 when ignored, Wed 25 10:00 by default.
    accepted = vn(2026, 11, 23, 10)
    assert local(calendar.due_at(accepted, 1, "working_day")) == vn(2026, 11, 24, 10)
    assert local(CAL.due_at(accepted, 1, "working_day")) == vn(2026, 11, 25, 10)


def test_extra_day_off_is_skipped() -> None:
    calendar = WorkingCalendar(extra_days_off=[date(2025, 3, 12)])
    assert not calendar.is_working_day(date(2025, 3, 12))
    assert calendar.holiday_name(date(2025, 3, 12)) == "Day off (configured)"
    # Tue 11 Mar 10:00: 5.5 h left, Wed skipped, Thu 07:30 + 2.5 h.
    assert local(calendar.due_at(vn(2025, 3, 11, 10), 1, "working_day")) == vn(2025, 3, 13, 10)
    # An extra day off can cancel a compensatory Saturday from the built-in table.
    cancelled = WorkingCalendar(extra_days_off=[date(2026, 8, 22)])
    assert not cancelled.is_working_day(date(2026, 8, 22))
    assert cancelled.holiday_name(date(2026, 8, 22)) == "Day off (configured)"


def test_extra_working_day_counts() -> None:
    calendar = WorkingCalendar(extra_working_days=[date(2025, 3, 15), date(2026, 11, 24)])
    # Fri 14 Mar 10:00: 5.5 h left; Sat 15 Mar worked: 07:30 + 2.5 h.
    assert local(calendar.due_at(vn(2025, 3, 14, 10), 1, "working_day")) == vn(2025, 3, 15, 10)
    assert calendar.is_working_day(date(2026, 11, 24))
    assert calendar.holiday_name(date(2026, 11, 24)) is None


def test_a_day_cannot_be_both_extra_off_and_extra_working() -> None:
    with pytest.raises(ValueError, match="both"):
        WorkingCalendar(extra_days_off=[date(2025, 3, 15)], extra_working_days=[date(2025, 3, 15)])


_SUBSTITUTED = re.compile(r"^Day off \(substituted from (\d{2})/(\d{2})/(\d{4})\)$")


def test_every_swap_the_package_knows_has_its_working_saturday() -> None:
    # Fails when a holidays upgrade adds a swap: add its Saturday to WORKING_SATURDAYS.
    package = holidays.country_holidays("VN", years=range(1995, 2036), language="en_US")
    swaps: dict[date, date] = {}
    for day_off, names in sorted(package.items()):
        for name in names.split("; "):
            if match := _SUBSTITUTED.match(name):
                month, day, year = (int(part) for part in match.groups())
                swaps[day_off] = date(year, month, day)
    assert {date(2025, 5, 2), date(2026, 8, 31)} <= swaps.keys()  # the guard sees something
    for day_off, saturday in swaps.items():
        assert saturday in WORKING_SATURDAYS, f"{saturday} worked in exchange for {day_off}"
        assert CAL.is_working_day(saturday)
        assert not CAL.is_working_day(day_off)


def test_override_table_holds_sourced_saturdays() -> None:
    assert {date(2025, 2, 8), date(2025, 4, 26), date(2026, 8, 22)} <= WORKING_SATURDAYS.keys()
    for day, source in WORKING_SATURDAYS.items():
        assert day.weekday() == 5
        assert len(source) > 40
        assert CAL.is_working_day(day)


def test_holiday_names_do_not_depend_on_the_process_locale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Left to itself the package names holidays in the locale's language (or Vietnamese when the
    # locale is unsupported), which would make ignored_holiday_names silently stop matching.
    monkeypatch.setenv("LANGUAGE", "vi")
    monkeypatch.setenv("LANG", "vi_VN.UTF-8")
    _package_holidays.cache_clear()
    try:
        calendar = WorkingCalendar(ignored_holiday_names=["Vietnam Cultural Day"])
        assert calendar.is_working_day(date(2026, 11, 24))
        assert CAL.holiday_name(date(2026, 2, 17)) == "Lunar New Year"
    finally:
        _package_holidays.cache_clear()


# -- validation -------------------------------------------------------------------------------

NAIVE = datetime(2025, 3, 12, 10)
AWARE = vn(2025, 3, 12, 10)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda: CAL.clock_start(NAIVE), "timezone-aware", id="clock_start"),
        pytest.param(lambda: CAL.add(NAIVE, DAY), "timezone-aware", id="add"),
        pytest.param(lambda: CAL.between(NAIVE, AWARE), "timezone-aware", id="between-start"),
        pytest.param(lambda: CAL.between(AWARE, NAIVE), "timezone-aware", id="between-end"),
        pytest.param(lambda: CAL.due_at(NAIVE, 1, "working_day"), "timezone-aware", id="due_at"),
        pytest.param(lambda: CAL.add(AWARE, -MICROSECOND), "negative", id="negative-duration"),
        pytest.param(lambda: CAL.due_at(AWARE, -1, "working_day"), "negative", id="negative-time"),
        pytest.param(
            lambda: CAL.due_at(AWARE, 1, "day"),  # type: ignore[arg-type]
            "unknown processing unit",
            id="unknown-unit",
        ),
    ],
)
def test_invalid_arguments_are_rejected(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        pytest.param((), "at least one", id="empty"),
        pytest.param(((time(9), time(9)),), "start before", id="empty-window"),
        pytest.param(((time(17), time(9)),), "start before", id="reversed"),
        pytest.param(((time(13), time(17)), (time(7, 30), time(11, 30))), "sorted", id="unsorted"),
        pytest.param(
            ((time(7, 30), time(13, 30)), (time(13), time(17))), "overlap", id="overlapping"
        ),
        pytest.param(((time(7, 30, tzinfo=UTC), time(11, 30)),), "naive", id="aware"),
    ],
)
def test_invalid_windows_are_rejected(windows: Windows, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkingCalendar(windows=windows)


def test_windows_are_configurable() -> None:
    # Touching windows are allowed; one 08:00-12:00 plus 12:00-16:00 is a 8 h day without lunch.
    calendar = WorkingCalendar(windows=[(time(8), time(12)), (time(12), time(16))], cutoff=time(11))
    assert calendar.working_day_length == DAY
    assert CAL.working_day_length == DAY
    assert local(calendar.clock_start(vn(2025, 3, 12, 11, 1))) == vn(2025, 3, 13, 8)
    assert local(calendar.due_at(vn(2025, 3, 12, 10), 1, "working_day")) == vn(2025, 3, 13, 10)
    assert WorkingCalendar(windows=[(time(8), time(10))]).working_day_length == timedelta(hours=2)


def test_between_counts_only_working_time() -> None:
    assert CAL.between(vn(2026, 2, 13, 10), vn(2026, 2, 24, 10)) == 2 * DAY
    assert CAL.between(vn(2025, 3, 12, 11), vn(2025, 3, 12, 14)) == timedelta(hours=1, minutes=30)
    assert CAL.between(vn(2025, 3, 15, 8), vn(2025, 3, 16, 16)) == timedelta(0)
    assert CAL.between(vn(2025, 3, 13), vn(2025, 3, 12)) == timedelta(0)
    # 2025 starts on a Wednesday: 52 weeks + 1 day = 261 weekdays; minus 12 weekday days off
    # (1/1; 27-31/1; 7/4; 30/4; 1/5; 2/5; 1/9; 2/9 - Sat 1/2 is a weekend anyway); plus the
    # working Saturdays 8/2 and 26/4: 251 working days.
    assert CAL.between(vn(2025, 1, 1), vn(2026, 1, 1)) == 251 * DAY


# -- properties -------------------------------------------------------------------------------

_HOLIDAY_ADJACENT = sorted(
    {
        day + timedelta(days=shift)
        for day in [
            *holidays.country_holidays("VN", years=range(2024, 2028)),
            *(d for d in WORKING_SATURDAYS if d.year >= 2024),
        ]
        for shift in range(-3, 4)
    }
)
# Plain random dates rarely land near a holiday, so half the draws are within 3 days of one.
DAYS = st.one_of(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    st.sampled_from(_HOLIDAY_ADJACENT),
)
ZONES = st.sampled_from([UTC, VIETNAM_TZ, timezone(timedelta(hours=-5, minutes=-30))])
MAX_DAYS = 120


def _around(moment: time) -> list[time]:
    base = datetime.combine(date(2000, 1, 1), moment)
    return [
        shifted.time()
        for shifted in (base - MICROSECOND, base, base + MICROSECOND)
        if shifted.date() == base.date()
    ]


def _boundaries(windows: Windows, cutoff: time) -> list[time]:
    edges = [edge for window in windows for edge in window] + [cutoff, time(0), time.max]
    return sorted({near for edge in edges for near in _around(edge)})


@st.composite
def instants(
    draw: st.DrawFn, windows: Windows = DEFAULT_WINDOWS, cutoff: time = time(15)
) -> datetime:
    """Any instant, with window edges and the cut-off (±1 µs) drawn often."""
    day = draw(DAYS)
    moment = draw(st.one_of(st.times(), st.sampled_from(_boundaries(windows, cutoff))))
    return datetime.combine(day, moment, tzinfo=VIETNAM_TZ).astimezone(draw(ZONES))


@st.composite
def working_instants(
    draw: st.DrawFn, calendar: WorkingCalendar = CAL, windows: Windows = DEFAULT_WINDOWS
) -> datetime:
    """An instant in working time, window ends included."""
    day = draw(DAYS)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    start, end = draw(st.sampled_from(windows))
    opens = datetime.combine(day, start, tzinfo=VIETNAM_TZ)
    length = (datetime.combine(day, end, tzinfo=VIETNAM_TZ) - opens) // MICROSECOND
    offset = draw(st.one_of(st.sampled_from([0, 1, length - 1, length]), st.integers(0, length)))
    return (opens + offset * MICROSECOND).astimezone(draw(ZONES))


def durations(day_length: timedelta = DAY) -> st.SearchStrategy[timedelta]:
    """Up to 120 working days; whole hours and whole days often, to hit window ends exactly."""
    return st.one_of(
        st.integers(0, MAX_DAYS * day_length // MICROSECOND).map(lambda n: n * MICROSECOND),
        st.integers(0, MAX_DAYS * day_length // timedelta(hours=1)).map(
            lambda n: timedelta(hours=n)
        ),
        st.integers(0, MAX_DAYS).map(lambda n: n * day_length),
    )


@st.composite
def calendars(draw: st.DrawFn) -> tuple[WorkingCalendar, Windows, time]:
    """Random valid office hours in whole minutes (1-3 windows, possibly touching) and cut-off."""
    count = draw(st.integers(1, 3))
    points = sorted(
        draw(st.lists(st.integers(0, 1439), min_size=2 * count, max_size=2 * count, unique=True))
    )
    pairs = [[points[2 * i], points[2 * i + 1]] for i in range(count)]
    for i in range(1, count):
        if draw(st.booleans()):
            pairs[i][0] = pairs[i - 1][1]
    windows = tuple((time(a // 60, a % 60), time(b // 60, b % 60)) for a, b in pairs)
    minute = draw(st.integers(0, 1439))
    cutoff = time(minute // 60, minute % 60)
    return WorkingCalendar(windows=windows, cutoff=cutoff), windows, cutoff


@settings(max_examples=150, deadline=None)
@given(start=instants(), duration=durations())
def test_between_measures_what_add_added(start: datetime, duration: timedelta) -> None:
    end = CAL.add(start, duration)
    assert end >= start
    assert CAL.between(start, end) == duration
    # Normalising the start first (what add does) changes nothing.
    assert CAL.between(CAL.add(start, timedelta(0)), end) == duration


@settings(max_examples=150, deadline=None)
@given(first=working_instants(), second=working_instants())
def test_add_recovers_the_end_measured_by_between(first: datetime, second: datetime) -> None:
    start, end = sorted([first, second])
    # A window start is the same point in working time as the preceding window end, and add
    # reports the end, so such an `end` cannot be recovered (unless nothing elapsed).
    assume(end == start or all(local(end).time() != opens for opens, _ in DEFAULT_WINDOWS))
    assert CAL.add(start, CAL.between(start, end)) == end


@settings(max_examples=150, deadline=None)
@given(
    accepted=instants(),
    processing_time=st.integers(0, MAX_DAYS),
    unit=st.sampled_from(["working_day", "working_hour"]),
)
def test_due_date_lands_in_working_time(
    accepted: datetime, processing_time: int, unit: ProcessingUnit
) -> None:
    due = CAL.due_at(accepted, processing_time, unit)
    assert due.tzinfo is UTC
    assert due >= accepted
    assert in_working_time(CAL, DEFAULT_WINDOWS, due)
    per_unit = DAY if unit == "working_day" else timedelta(hours=1)
    assert CAL.between(CAL.clock_start(accepted), due) == processing_time * per_unit


@settings(max_examples=150, deadline=None)
@given(start=instants(), first=durations(), second=durations())
def test_add_is_monotonic(start: datetime, first: timedelta, second: timedelta) -> None:
    shorter, longer = sorted([first, second])
    assert CAL.add(start, shorter) <= CAL.add(start, longer)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_properties_hold_for_any_office_hours(data: st.DataObject) -> None:
    calendar, windows, cutoff = data.draw(calendars())
    received = data.draw(instants(windows, cutoff))

    starts = calendar.clock_start(received)
    assert starts >= received
    wall = local(received)
    if calendar.is_working_day(wall.date()) and wall.time() <= cutoff:
        # Up to the cut-off, no working time is lost before the clock starts.
        assert calendar.between(received, starts) == timedelta(0)
    else:
        # Otherwise the rest of the day is lost and the clock starts at the next day's opening.
        next_midnight = datetime.combine(wall.date() + timedelta(days=1), time(), VIETNAM_TZ)
        assert local(starts).time() == windows[0][0]
        assert starts >= next_midnight
        assert calendar.between(next_midnight, starts) == timedelta(0)
    assert in_working_time(calendar, windows, starts)

    duration = data.draw(durations(calendar.working_day_length))
    due = calendar.add(starts, duration)
    assert in_working_time(calendar, windows, due)
    assert calendar.between(starts, due) == duration
    assert calendar.between(received, calendar.add(received, duration)) == duration


def _working_minutes(
    calendar: WorkingCalendar, windows: Windows, start: datetime, count: int
) -> list[datetime]:
    """Reference: the first `count` working minutes from `start`, stepping minute by minute."""
    found: list[datetime] = []
    moment = local(start)
    while len(found) < count:
        if not calendar.is_working_day(moment.date()):
            moment = datetime.combine(moment.date() + timedelta(days=1), time(), VIETNAM_TZ)
            continue
        if any(opens <= moment.time() < closes for opens, closes in windows):
            found.append(moment)
        moment += MINUTE
    return found


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_matches_a_minute_stepping_reference(data: st.DataObject) -> None:
    # Whole minutes only: the reference counts minutes, so the windows (whole minutes by
    # construction) and the start must sit on minute boundaries for the counts to be exact.
    calendar, windows, _ = data.draw(calendars())
    start = datetime.combine(data.draw(DAYS), time(), VIETNAM_TZ)
    start += data.draw(st.integers(0, 1439)) * MINUTE
    count = data.draw(st.integers(1, 2 * (calendar.working_day_length // MINUTE)))
    minutes = _working_minutes(calendar, windows, start, count)
    # The result is the end of the last working minute (a window end, not the next opening).
    end = minutes[-1] + MINUTE
    assert calendar.add(start, count * MINUTE) == end

    probe = start + data.draw(st.integers(0, (end - start) // MINUTE)) * MINUTE
    assert calendar.between(start, probe) == MINUTE * sum(1 for m in minutes if m < probe)
