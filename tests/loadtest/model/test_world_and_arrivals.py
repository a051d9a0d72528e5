"""The world a run plays in (scope sample, procedures, popularity, partitions, the message sent
to workers) and the schedule of arrivals made from it: inside the run, independent of the number
of workers, at the rates the profiles state, and in working time where the calendar says so."""

from __future__ import annotations

import itertools
import json
import math
import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.accounts.identifiers import AccountKind, identifier_problem
from app.core.calendar import VIETNAM_TZ, WorkingCalendar, calendar_from_settings
from app.core.config import Settings
from loadtest.model.arrivals import (
    Arrival,
    generate_arrivals,
    identity,
    poisson_instants,
    working_time_instants,
)
from loadtest.model.queueing import MMc
from loadtest.model.workload import DEFAULT_WORKLOAD, LEVELS, Workload, agency_demand, load_workload
from loadtest.model.world import (
    Agency,
    Catalogue,
    Procedure,
    Timeline,
    World,
    build_world,
    generated_catalogue,
    zipf_weights,
)

SPEED = 600.0
LEAD = 60.0  # real seconds between the time line's zero and the first arrival
# Monday 2 March 2026, Vietnam time: seven plain working weeks follow (Hùng Kings day, observed
# on Monday 27 April, is the first holiday).
MONDAY = datetime(2026, 3, 2, tzinfo=VIETNAM_TZ)
EPSILON = timedelta(milliseconds=1)  # float round trips of real <-> simulated instants


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return generated_catalogue(0, 3)


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return calendar_from_settings(Settings(_env_file=None))


def timeline(start: datetime, simulated_hours: float, speed: float = SPEED) -> Timeline:
    """A time line whose arrivals start `LEAD` real seconds after its zero, at `start`."""
    return Timeline(
        real_zero=0.0,
        sim_at_zero=start.timestamp() - LEAD * speed,
        speed=speed,
        start_real=LEAD,
        real_seconds=simulated_hours * 3600 / speed,
    )


def local(line: Timeline, at: float) -> datetime:
    return datetime.fromtimestamp(line.sim(at), VIETNAM_TZ)


def make_world(
    workload: Workload, catalogue: Catalogue, line: Timeline, *, scale: float, seed: int = 1
) -> World:
    return build_world(
        workload,
        catalogue,
        timeline=line,
        scale=scale,
        seed=seed,
        salt="t",
        workload_name="test",
    )


def one_agency_world(
    line: Timeline, *, online_per_day: float, counter_per_day: float, seed: int = 3
) -> World:
    procedure = Procedure(
        code="1.000001",
        name="Đăng ký khai sinh",
        level="commune",
        field="ho_tich",
        legal_hours=8.0,
        processing_time=1,
        processing_unit="working_day",
        fees_total=0,
        online_level="full",
    )
    agency = Agency(
        code="000.00.99.H01",
        name="Ủy ban nhân dân Xã Thử",
        level="commune",
        province_code=1,
        procedures=[procedure.code],
        weights=[1.0],
        online_per_day=online_per_day,
        counter_per_day=counter_per_day,
        officers=3,
    )
    return World(
        seed=seed,
        salt="t",
        scale=1.0,
        timeline=line,
        procedures={procedure.code: procedure},
        agencies=[agency],
    )


def in_working_time(calendar: WorkingCalendar, instant: datetime) -> bool:
    """Whether working time passes around `instant` (window ends included)."""
    return calendar.between(instant - EPSILON, instant + EPSILON) > timedelta(0)


def within_sd(observed: int, expected: float, sds: float = 4.0) -> bool:
    """A Poisson count against its mean: within `sds` standard deviations (sd = sqrt(mean))."""
    return abs(observed - expected) <= sds * math.sqrt(expected)


# --- the world -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def week_world(catalogue: Catalogue) -> World:
    return make_world(load_workload(), catalogue, timeline(MONDAY, 24 * 7), scale=0.05)


@pytest.mark.parametrize("wanted", [4, 7, 12, 20])
def test_scope_sample_has_the_requested_agencies_stratified_by_level(
    catalogue: Catalogue, wanted: int
) -> None:
    workload = Workload.model_validate({"scope": {"agencies": wanted}})
    world = make_world(workload, catalogue, timeline(MONDAY, 24), scale=0.05)
    assert len(world.agencies) == wanted
    assert len({a.code for a in world.agencies}) == wanted
    by_level = Counter(a.level for a in world.agencies)
    for level in LEVELS:
        proportional = wanted * workload.levels.share(level)
        assert by_level[level] >= 1  # every level with a share is represented
        assert abs(by_level[level] - proportional) <= 1


@pytest.mark.parametrize("wanted", [3, 5, 10, 13])
def test_scope_sample_size_is_exact_when_rounding_does_not_add_up(
    catalogue: Catalogue, wanted: int
) -> None:
    workload = Workload.model_validate({"scope": {"agencies": wanted}})
    world = make_world(workload, catalogue, timeline(MONDAY, 24), scale=0.05)
    assert len(world.agencies) == wanted


def test_scope_zero_takes_every_agency_receiving_a_procedure(catalogue: Catalogue) -> None:
    workload = Workload.model_validate({"scope": {"agencies": 0}})
    world = make_world(workload, catalogue, timeline(MONDAY, 24), scale=0.01)
    agencies = catalogue.agencies
    assert 0 < len(world.agencies) <= len(agencies)
    assert {a.level for a in world.agencies} == set(LEVELS)


def test_each_agency_receives_procedures_of_its_level_and_fields(
    week_world: World, catalogue: Catalogue
) -> None:
    agencies = catalogue.agencies
    fields_of = {a.code: set(a.field_codes) for a in agencies}
    for agency in week_world.agencies:
        assert agency.procedures, agency.code
        assert len(set(agency.procedures)) == len(agency.procedures)
        for code in agency.procedures:
            procedure = week_world.procedures[code]
            assert procedure.level == agency.level
            assert procedure.field in fields_of[agency.code]
    # The world carries exactly the procedures its agencies receive.
    used = {code for a in week_world.agencies for code in a.procedures}
    assert set(week_world.procedures) == used


def test_zipf_weights_sum_to_one_most_popular_first(week_world: World) -> None:
    for agency in week_world.agencies:
        assert len(agency.weights) == len(agency.procedures)
        assert math.fsum(agency.weights) == pytest.approx(1.0)
        assert agency.weights == sorted(agency.weights, reverse=True)
        assert agency.weights == pytest.approx(zipf_weights(len(agency.weights), 1.1))


@given(count=st.integers(1, 300), exponent=st.floats(0, 4, allow_nan=False))
def test_zipf_weights_property(count: int, exponent: float) -> None:
    weights = zipf_weights(count, exponent)
    assert len(weights) == count
    assert math.fsum(weights) == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(weights))


def test_each_agency_gets_its_levels_national_demand_share(
    week_world: World, catalogue: Catalogue
) -> None:
    agencies = catalogue.agencies
    workload = load_workload()
    per_level = Counter(a.level for a in agencies)
    for agency in week_world.agencies:
        demand = agency_demand(workload, agency.level, per_level[agency.level], 0.05)
        assert agency.online_per_day == pytest.approx(demand.online_per_day)
        assert agency.counter_per_day == pytest.approx(demand.counter_per_day)
        assert agency.officers >= 1
    assert week_world.require_plan().agencies == len(week_world.agencies)
    assert week_world.require_plan().officers == sum(a.officers for a in week_world.agencies)


def test_the_world_is_seeded(catalogue: Catalogue) -> None:
    line = timeline(MONDAY, 24)
    first = make_world(load_workload(), catalogue, line, scale=0.05, seed=7)
    again = make_world(load_workload(), catalogue, line, scale=0.05, seed=7)
    other = make_world(load_workload(), catalogue, line, scale=0.05, seed=8)
    assert first == again
    assert [a.code for a in first.agencies] != [a.code for a in other.agencies]


@given(count=st.integers(0, 12))
def test_partition_deals_every_agency_to_exactly_one_worker(week_world: World, count: int) -> None:
    world = World.from_message(week_world.as_message())
    world.partition(count)
    workers = max(1, count)
    assert world.partitions == workers
    dealt = [world.agencies_of(p) for p in range(workers)]
    codes = [a.code for share in dealt for a in share]
    assert sorted(codes) == sorted(a.code for a in world.agencies)
    assert all(0 <= a.partition < workers for a in world.agencies)
    sizes = [len(share) for share in dealt]
    assert max(sizes) - min(sizes) <= 1


def test_world_message_round_trips(week_world: World) -> None:
    world = World.from_message(week_world.as_message())
    world.partition(3)
    assert World.from_message(world.as_message()) == world
    # A Locust message is serialised: the round trip holds through JSON too.
    assert World.from_message(json.loads(json.dumps(world.as_message()))) == world


def test_queueing_world_is_n_identical_agencies(catalogue: Catalogue) -> None:
    workload = Workload.model_validate(
        {"queueing": {"agencies": 4, "officers": 3, "deadline_hours": 8}}
    )
    world = make_world(workload, catalogue, timeline(MONDAY, 24), scale=1.0)
    assert len(world.agencies) == 4
    [procedure] = world.procedures.values()
    assert procedure.legal_hours == 8.0
    assert procedure.level == "commune"
    for agency in world.agencies:
        assert agency.procedures == [procedure.code]
        assert agency.officers == 3
        assert agency.counter_per_day == 0
        assert agency.online_per_day == pytest.approx(1.2 * 8)


@pytest.mark.parametrize(("name", "utilisation"), [("mmc-rho06", 0.6), ("mmc-rho09", 0.9)])
def test_shipped_queueing_workloads_build_on_the_portals_catalogue(
    name: str, utilisation: float
) -> None:
    settings = Settings(_env_file=None)
    workload = load_workload(DEFAULT_WORKLOAD.parent / "workloads" / f"{name}.toml")
    queueing = workload.queueing
    assert queueing is not None
    model = MMc(queueing.arrivals_per_hour, queueing.service_mean_hours, queueing.officers)
    assert model.utilisation == pytest.approx(utilisation)
    line = timeline(MONDAY, 24, speed=workload.run.speed)
    world = make_world(
        workload,
        generated_catalogue(settings.catalogue_seed, settings.communes_per_province),
        line,
        scale=workload.run.scale,
    )
    assert len(world.agencies) == queueing.agencies
    [procedure] = world.procedures.values()
    assert procedure.legal_hours == queueing.deadline_hours
    assert world.require_plan().total_rps <= world.require_plan().ceiling_rps


# --- the schedule ----------------------------------------------------------------------------


def sim_key(line: Timeline, arrival: Arrival) -> tuple[Any, ...]:
    data = tuple(sorted(arrival.data.items()))
    return arrival.actor, arrival.kind, data, round(line.sim(arrival.at), 3)


AGENCY_BOUND = ("submit", "counter", "inbox", "push")


def test_arrivals_are_sorted_and_inside_the_run(
    week_world: World, calendar: WorkingCalendar
) -> None:
    arrivals = generate_arrivals(week_world, load_workload(), 0, calendar)
    line = week_world.timeline
    assert arrivals
    assert [a.at for a in arrivals] == sorted(a.at for a in arrivals)
    assert all(line.start_real <= a.at < line.start_real + line.real_seconds for a in arrivals)
    kinds = Counter(a.kind for a in arrivals)
    assert set(kinds) == {"submit", "counter", "inbox", "push", "visit", "read"}
    submits = [a for a in arrivals if a.kind == "submit"]
    codes = {a.code for a in week_world.agencies}
    for arrival in submits:
        assert arrival.data["agency"] in codes
        agency = next(x for x in week_world.agencies if x.code == arrival.data["agency"])
        assert arrival.data["procedure"] in agency.procedures
    # Idempotency keys are unique within the run.
    assert len({a.data["key"] for a in submits}) == len(submits)


@pytest.fixture(scope="module")
def schedules(week_world: World, calendar: WorkingCalendar) -> dict[int, list[list[Arrival]]]:
    """The week's schedule for 1, 2 and 3 workers (one list per partition)."""
    workload = load_workload()
    found: dict[int, list[list[Arrival]]] = {}
    for workers in (1, 2, 3):
        world = World.from_message(week_world.as_message())
        world.partition(workers)
        found[workers] = [generate_arrivals(world, workload, p, calendar) for p in range(workers)]
    return found


@pytest.mark.parametrize("workers", [2, 3])
def test_agency_bound_schedule_does_not_depend_on_worker_count(
    week_world: World, schedules: dict[int, list[list[Arrival]]], workers: int
) -> None:
    line = week_world.timeline
    [alone] = schedules[1]
    single = Counter(sim_key(line, a) for a in alone if a.kind in AGENCY_BOUND)
    union: Counter[tuple[Any, ...]] = Counter()
    for share in schedules[workers]:
        union.update(sim_key(line, a) for a in share if a.kind in AGENCY_BOUND)
    assert union == single
    assert sum(single.values()) > 1000


@pytest.mark.parametrize("workers", [2, 3])
def test_visits_and_reads_keep_their_instants_across_worker_counts(
    week_world: World, schedules: dict[int, list[list[Arrival]]], workers: int
) -> None:
    line = week_world.timeline
    [alone] = schedules[1]

    def instants(arrivals: list[Arrival]) -> Counter[tuple[str, float]]:
        return Counter(
            (a.kind, round(line.sim(a.at), 3)) for a in arrivals if a.kind in ("visit", "read")
        )

    union: Counter[tuple[str, float]] = Counter()
    for share in schedules[workers]:
        union.update(instants(share))
    assert union == instants(alone)
    # The reviewer lives on the first worker only.
    assert all(a.kind != "read" for share in schedules[workers][1:] for a in share)


def test_visits_keep_their_procedure_across_worker_counts(
    week_world: World, schedules: dict[int, list[list[Arrival]]]
) -> None:
    line = week_world.timeline
    [alone] = schedules[1]
    single = Counter(sim_key(line, a) for a in alone if a.kind == "visit")
    union: Counter[tuple[Any, ...]] = Counter()
    for share in schedules[2]:
        union.update(sim_key(line, a) for a in share if a.kind == "visit")
    assert union == single


# (c) online submissions against the profile ---------------------------------------------------

WEEKS = 7
ONLINE_PER_DAY = 1000.0


@pytest.fixture(scope="module")
def online_counts(calendar: WorkingCalendar) -> tuple[Counter[int], Counter[int], Workload]:
    """Seven plain weeks of one agency's online submissions: counts by local weekday, and by
    local hour on Monday to Friday."""
    workload = Workload.model_validate(
        {
            # The default file's profiles, given explicitly (defaults are not normalised: see
            # test_workload.py).
            "profile": load_workload().profile.model_dump(),
            "volumes": {"visits_per_dossier": 0},
            "reviewer": {"reads_per_hour": 0},
        }
    )
    line = timeline(MONDAY, 24 * 7 * WEEKS)
    world = one_agency_world(line, online_per_day=ONLINE_PER_DAY, counter_per_day=0)
    arrivals = generate_arrivals(world, workload, 0, calendar)
    assert {a.kind for a in arrivals} == {"submit", "inbox"}
    by_day: Counter[int] = Counter()
    by_hour: Counter[int] = Counter()
    for arrival in arrivals:
        if arrival.kind == "submit":
            instant = local(line, arrival.at)
            by_day[instant.weekday()] += 1
            if instant.weekday() < 5:
                by_hour[instant.hour] += 1
    return by_day, by_hour, workload


def test_online_submissions_over_a_long_span_match_the_profile(
    online_counts: tuple[Counter[int], Counter[int], Workload],
) -> None:
    by_day, _, workload = online_counts
    expected = ONLINE_PER_DAY * WEEKS * math.fsum(workload.profile.weekly)
    assert within_sd(sum(by_day.values()), expected)


@pytest.mark.parametrize(
    "weekday",
    [
        0,
        1,
        2,
        3,
        4,
        5,
        6,
    ],
)
def test_online_submissions_follow_the_weekly_profile(
    online_counts: tuple[Counter[int], Counter[int], Workload], weekday: int
) -> None:
    by_day, _, workload = online_counts
    expected = ONLINE_PER_DAY * WEEKS * workload.profile.weekly[weekday]
    assert within_sd(by_day[weekday], expected), (by_day[weekday], expected)


def test_online_submissions_follow_the_local_hourly_profile(
    online_counts: tuple[Counter[int], Counter[int], Workload],
) -> None:
    _, by_hour, workload = online_counts
    weekdays = math.fsum(workload.profile.weekly[:5])
    for hour in range(24):
        expected = ONLINE_PER_DAY * WEEKS * weekdays * workload.profile.online_hourly[hour]
        assert within_sd(by_hour[hour], expected), (hour, by_hour[hour], expected)


# (d) counter arrivals -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def counter_instants(calendar: WorkingCalendar) -> list[datetime]:
    """Three weeks around National Day 2026: a compensatory working Saturday (22 August), a
    swapped day off (31 August) and the holiday itself (1-2 September)."""
    line = timeline(datetime(2026, 8, 17, tzinfo=VIETNAM_TZ), 24 * 21)
    world = one_agency_world(line, online_per_day=0, counter_per_day=400)
    arrivals = generate_arrivals(world, load_workload(), 0, calendar)
    return [local(line, a.at) for a in arrivals if a.kind == "counter"]


def test_counter_arrivals_only_on_working_days_in_counter_hours(
    counter_instants: list[datetime], calendar: WorkingCalendar
) -> None:
    profile = load_workload().profile
    assert len(counter_instants) > 1000
    for instant in counter_instants:
        assert calendar.is_working_day(instant.date()), instant
        assert profile.counter_hourly[instant.hour] > 0, instant
    days = {instant.date() for instant in counter_instants}
    assert date(2026, 8, 22) in days  # the working Saturday
    assert not days & {date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2)}
    assert not any(instant.weekday() == 6 for instant in counter_instants)


def test_counter_arrivals_fall_inside_the_calendars_windows(
    counter_instants: list[datetime], calendar: WorkingCalendar
) -> None:
    outside = [i for i in counter_instants if not in_working_time(calendar, i)]
    assert outside == []


# (e) the M/M/c case -------------------------------------------------------------------------


def test_queueing_arrivals_are_flat_over_working_time_at_the_stated_rate(
    catalogue: Catalogue, calendar: WorkingCalendar
) -> None:
    workload = Workload.model_validate(
        {"queueing": {"agencies": 4, "arrivals_per_hour": 1.2, "officers": 4}}
    )
    start = datetime(2026, 3, 2, 7, 30, tzinfo=VIETNAM_TZ)
    end = calendar.add(start, timedelta(hours=400))
    hours = (end - start).total_seconds() / 3600
    line = timeline(start, hours)
    world = make_world(workload, catalogue, line, scale=1.0)
    arrivals = generate_arrivals(world, workload, 0, calendar)
    assert {a.kind for a in arrivals} == {"submit", "inbox"}
    submits = [a for a in arrivals if a.kind == "submit"]
    for arrival in submits:
        assert in_working_time(calendar, local(line, arrival.at)), local(line, arrival.at)
    per_agency = Counter(a.data["agency"] for a in submits)
    assert set(per_agency) == {a.code for a in world.agencies}
    working_hours = calendar.between(start, end) / timedelta(hours=1)
    assert working_hours == pytest.approx(400, abs=1e-3)
    for count in per_agency.values():
        assert within_sd(count, 1.2 * working_hours)
    assert within_sd(len(submits), 4 * 1.2 * working_hours)


# (f) the instant generators -----------------------------------------------------------------

BASE = datetime(2026, 3, 2, tzinfo=VIETNAM_TZ).astimezone(UTC)


def test_poisson_instants_with_a_fixed_rng() -> None:
    start, end = BASE, BASE + timedelta(days=2)
    rates = [0.0] * 8 + [50.0] * 2 + [0.0] * 14  # 08:00-10:00 local only

    def rate(at: datetime) -> float:
        return rates[at.hour]

    instants = poisson_instants(random.Random(11), start, end, rate)
    assert instants == poisson_instants(random.Random(11), start, end, rate)
    assert within_sd(len(instants), 2 * 2 * 50.0)
    assert {i.astimezone(VIETNAM_TZ).hour for i in instants} == {8, 9}


@settings(max_examples=60, deadline=None)
@given(
    offset_s=st.integers(0, 40 * 86400),
    span_s=st.integers(0, 72 * 3600),
    rates=st.lists(
        st.one_of(st.just(0.0), st.floats(0.01, 30, allow_nan=False)), min_size=24, max_size=24
    ),
    seed=st.integers(0, 2**32),
)
def test_poisson_instants_lie_in_the_span_and_in_hours_with_a_rate(
    offset_s: int, span_s: int, rates: list[float], seed: int
) -> None:
    start = BASE + timedelta(seconds=offset_s, microseconds=offset_s % 997)
    end = start + timedelta(seconds=span_s)

    def rate(at: datetime) -> float:
        return rates[at.astimezone(VIETNAM_TZ).hour]

    instants = poisson_instants(random.Random(seed), start, end, rate)
    assert instants == sorted(instants)
    for instant in instants:
        assert start <= instant < end
        assert rates[instant.astimezone(VIETNAM_TZ).hour] > 0


def test_working_time_instants_with_a_fixed_rng(calendar: WorkingCalendar) -> None:
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=VIETNAM_TZ)
    monday = datetime(2026, 3, 9, 9, 0, tzinfo=VIETNAM_TZ)
    instants = working_time_instants(random.Random(5), calendar, friday, monday, 200.0)
    assert within_sd(len(instants), 200.0 * 2.5)  # 16:00-17:00 and 07:30-09:00
    for instant in instants:
        wall = instant.astimezone(VIETNAM_TZ)
        on_friday = wall.date() == friday.date() and time(16) <= wall.time() <= time(17)
        on_monday = wall.date() == monday.date() and time(7, 30) <= wall.time() < time(9)
        assert on_friday or on_monday, wall


@settings(max_examples=60, deadline=None)
@given(
    offset_s=st.integers(0, 60 * 86400),
    span_s=st.integers(0, 200 * 3600),
    rate=st.floats(0.05, 20, allow_nan=False),
    seed=st.integers(0, 2**32),
)
def test_working_time_instants_lie_in_the_span_and_in_working_time(
    calendar: WorkingCalendar, offset_s: int, span_s: int, rate: float, seed: int
) -> None:
    start = BASE + timedelta(seconds=offset_s)
    end = start + timedelta(seconds=span_s)
    instants = working_time_instants(random.Random(seed), calendar, start, end, rate)
    assert instants == sorted(instants)
    for instant in instants:
        assert start <= instant < end
        assert in_working_time(calendar, instant)


# --- identities ------------------------------------------------------------------------------


def identities(world: World, workload: Workload, count: int) -> list[str]:
    return [identity(world, "000.00.99.H01", number, workload) for number in range(count)]


def test_identities_are_valid_personal_identification_numbers() -> None:
    world = one_agency_world(timeline(MONDAY, 24), online_per_day=1, counter_per_day=0)
    workload = load_workload()
    found = identities(world, workload, 3000)
    for value in found:
        assert identifier_problem(AccountKind.CITIZEN, value) is None, value
    # Drawn from a pool: some citizens come back, no more of them than the pool holds.
    assert len(set(found)) < len(found)
    assert found == identities(world, workload, 3000)
    small = Workload.model_validate({"citizen": {"accounts_pool": 20}})
    assert len(set(identities(world, small, 500))) <= 20


def test_another_runs_identities_are_not_reused() -> None:
    first = one_agency_world(timeline(MONDAY, 24), online_per_day=1, counter_per_day=0)
    second = World.from_message({**first.as_message(), "salt": "another run"})
    workload = load_workload()
    assert not set(identities(first, workload, 500)) & set(identities(second, workload, 500))


def test_scheduled_submissions_carry_valid_identities(
    schedules: dict[int, list[list[Arrival]]],
) -> None:
    [alone] = schedules[1]
    values = [a.data["identity"] for a in alone if a.kind == "submit"]
    assert values
    assert all(identifier_problem(AccountKind.CITIZEN, v) is None for v in values)
