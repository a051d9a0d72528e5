"""A back office as a queue: c officers, first come first served, working only in working time;
with Poisson arrivals and exponential work it is the M/M/c queue of harness.md."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.calendar import VIETNAM_TZ, WorkingCalendar
from loadtest.model.arrivals import working_time_instants
from loadtest.model.officers import IntakeLine, OfficerPool, OfficerQueue, lognormal_hours
from loadtest.model.queueing import MMc

CALENDAR = WorkingCalendar()
HOUR = timedelta(hours=1)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of March 2026, Vietnam time (Monday 2 March is a plain working day)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=VIETNAM_TZ)


def test_one_officer_takes_two_dossiers_one_after_the_other() -> None:
    pool = OfficerPool(1, CALENDAR, at(2, 7, 30))
    first = pool.assign(at(3, 9), 2.0)
    second = pool.assign(at(3, 9), 2.0)
    assert first == (at(3, 9), at(3, 11))
    assert second[0] == first[1]
    # 11:00 + 2 working hours: half an hour before lunch, 1.5 hours after it.
    assert second[1] == at(3, 14, 30)
    assert CALENDAR.between(at(3, 9), second[1]) == 4 * HOUR


def test_two_officers_work_in_parallel_and_the_third_dossier_waits() -> None:
    pool = OfficerPool(2, CALENDAR, at(2, 7, 30))
    assert pool.officers == 2
    done = [pool.assign(at(3, 8), hours)[1] for hours in (1.0, 3.0, 1.0)]
    assert done[:2] == [at(3, 9), at(3, 11)]
    # The third waits for the officer free first (at 09:00), not for the second dossier.
    assert done[2] == at(3, 10)


def test_work_never_counts_outside_working_time() -> None:
    pool = OfficerPool(3, CALENDAR, at(2, 7, 30))
    # Ready on Friday 16:00 for 3 hours: 1 hour on Friday, 2 on Monday morning.
    start, done = pool.assign(at(6, 16), 3.0)
    assert (start, done) == (at(6, 16), at(9, 9, 30))
    # Ready on a Saturday: the work starts when the office opens on Monday.
    start, done = pool.assign(at(7, 10), 1.0)
    assert (start, done) == (at(9, 7, 30), at(9, 8, 30))
    # Ready in the lunch break: the work starts at 13:00.
    start, done = pool.assign(at(10, 12), 0.5)
    assert (start, done) == (at(10, 13), at(10, 13, 30))
    for ready, finished, hours in ((at(6, 16), at(9, 9, 30), 3), (at(7, 10), at(9, 8, 30), 1)):
        assert CALENDAR.between(ready, finished) == hours * HOUR


def test_a_pool_needs_an_officer() -> None:
    with pytest.raises(ValueError, match="at least one officer"):
        OfficerPool(0, CALENDAR, at(2, 7, 30))


@settings(max_examples=80, deadline=None)
@given(
    officers=st.integers(1, 8),
    dossiers=st.integers(1, 40),
    quarters=st.integers(1, 48),  # work of each dossier, in quarter hours (exact in binary)
    day=st.sampled_from([2, 3, 4, 5, 6, 9, 10]),
)
def test_last_dossier_is_done_after_ceil_n_over_c_times_h_working_hours(
    officers: int, dossiers: int, quarters: int, day: int
) -> None:
    opening = at(day, 7, 30)
    hours = quarters / 4
    pool = OfficerPool(officers, CALENDAR, opening)
    done = [pool.assign(opening, hours)[1] for _ in range(dossiers)]
    assert done == sorted(done)  # first come, first served on identical work
    expected = math.ceil(dossiers / officers) * hours
    assert CALENDAR.between(opening, done[-1]) == timedelta(hours=expected)


@settings(max_examples=80, deadline=None)
@given(
    officers=st.integers(1, 5),
    jobs=st.lists(
        st.tuples(st.integers(0, 14 * 24 * 4), st.integers(1, 40)), min_size=1, max_size=30
    ),
)
def test_every_dossier_gets_its_working_hours_and_officers_are_never_over_booked(
    officers: int, jobs: list[tuple[int, int]]
) -> None:
    """Dossiers ready at any instant over two weeks (quarter hours) get exactly their work in
    working time, never start before they are ready, and at no instant do more than c work."""
    opening = at(2, 0)
    pool = OfficerPool(officers, CALENDAR, opening)
    spans = []
    for ready_quarters, work_quarters in sorted(jobs):
        ready = opening + timedelta(minutes=15 * ready_quarters)
        start, done = pool.assign(ready, work_quarters / 4)
        assert start >= ready
        assert CALENDAR.between(start, done) == timedelta(hours=work_quarters / 4)
        spans.append((start, done))
    for start, _ in spans:
        busy = sum(1 for s, d in spans if s <= start < d)
        assert busy <= officers


def test_lognormal_hours_respect_the_minimum() -> None:
    rng = random.Random(3)
    draws = [lognormal_hours(rng, 2.0, 1.0, 0.5) for _ in range(2000)]
    assert min(draws) == 0.5
    assert sorted(draws)[1000] == pytest.approx(2.0, rel=0.1)
    assert lognormal_hours(rng, 2.0, 0.0, 0.25) == 2.0


def test_an_officer_pool_fed_poisson_arrivals_matches_mmc_theory() -> None:
    """λ 1.2 per working hour, mean work 2 hours, 4 officers, deadline 6 working hours: the
    share of dossiers done within the deadline is Erlang C's, over ~20,000 dossiers."""
    rate, mean, officers, deadline = 1.2, 2.0, 4, 6.0
    rng = random.Random(20260302)
    start = at(2, 7, 30)
    end = CALENDAR.add(start, timedelta(hours=20_000 / rate))
    arrivals = working_time_instants(rng, CALENDAR, start, end, rate)
    assert abs(len(arrivals) - 20_000) <= 4 * math.sqrt(20_000)
    pool = OfficerPool(officers, CALENDAR, start)
    warm_up = 1_000
    on_time = counted = 0
    limit = timedelta(hours=deadline)
    for index, ready in enumerate(arrivals):
        _, done = pool.assign(ready, rng.expovariate(1 / mean))
        if index < warm_up:
            continue
        counted += 1
        on_time += CALENDAR.between(ready, done) <= limit
    predicted = MMc(rate, mean, officers).on_time_share(deadline)
    assert on_time / counted == pytest.approx(predicted, abs=0.02)


# -- the intake line (issue 20): the queue's order is the schedule's, not the chain's ----------


def _in_order(
    officers: int, dossiers: list[tuple[float, float]], present: list[bool]
) -> dict[str, tuple[float, float]]:
    """The queue fed the present dossiers in their places: the model's FCFS queue."""
    queue = OfficerQueue(officers)
    return {
        f"d{place}": queue.assign(ready, hours)
        for place, ((ready, hours), here) in enumerate(zip(dossiers, present, strict=True))
        if here
    }


@st.composite
def _deliveries(draw: st.DrawFn) -> tuple[int, list[tuple[float, float]], list[bool], list[int]]:
    officers = draw(st.integers(1, 4))
    gaps = draw(st.lists(st.floats(0, 3), min_size=1, max_size=40))
    hours = draw(st.lists(st.floats(0.01, 6), min_size=len(gaps), max_size=len(gaps)))
    readies = [sum(gaps[: i + 1]) for i in range(len(gaps))]
    present = draw(st.lists(st.booleans(), min_size=len(gaps), max_size=len(gaps)))
    order = draw(st.permutations(range(len(gaps))))
    return officers, list(zip(readies, hours, strict=True)), present, order


@given(_deliveries())
@settings(max_examples=300)
def test_a_line_fed_in_any_order_gives_every_dossier_the_in_order_queues_start_and_finish(
    case: tuple[int, list[tuple[float, float]], list[bool], list[int]],
) -> None:
    """Whatever order the chain delivers intakes and news of dossiers that will not come, each
    dossier's (start, done) is the one the FCFS queue fed in intended order gives, and nothing
    is left waiting once every place is accounted for."""
    officers, dossiers, present, order = case
    line = IntakeLine(OfficerQueue(officers))
    got: dict[str, tuple[float, float]] = {}
    for place in order:
        ready, hours = dossiers[place]
        admitted = (
            line.enter(place, f"d{place}", ready, hours) if present[place] else line.skip(place)
        )
        for dossier in admitted:
            assert dossier.code not in got
            got[dossier.code] = (dossier.start, dossier.done)
    assert got == _in_order(officers, dossiers, present)
    assert line.out_of_order == 0
    assert not any(line.waiting(place) for place in range(len(dossiers)))


def test_a_line_holds_a_dossier_until_the_earlier_places_come() -> None:
    line = IntakeLine(OfficerQueue(1))
    assert line.enter(1, "second", 1.0, 2.0) == []
    assert line.waiting(1)
    admitted = line.enter(0, "first", 0.5, 1.0)
    assert [(a.code, a.start, a.done) for a in admitted] == [
        ("first", 0.5, 1.5),
        ("second", 1.5, 3.5),
    ]


def test_a_line_that_gives_up_on_a_place_lets_the_waiting_in_and_counts_the_late_one() -> None:
    """An FCFS queue fed out of order cannot use the officer's idle time before a later
    dossier: the line is what keeps it; past its patience the late one is counted."""
    line = IntakeLine(OfficerQueue(1))
    assert line.enter(1, "second", 1.0, 2.0) == []
    assert [(a.code, a.start) for a in line.give_up(1)] == [("second", 1.0)]
    late = line.enter(0, "first", 0.5, 1.0)
    assert [(a.code, a.start, a.done) for a in late] == [("first", 3.0, 4.0)]
    assert line.out_of_order == 1
    assert [a.code for a in line.enter(2, "third", 2.0, 1.0)] == ["third"]
