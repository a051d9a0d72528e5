"""Load shapes: each shape's arrivals follow its multiplier (thinning keeps a Poisson process),
the plan sizes pools and the ceiling for the shape's peak, the national peak does not depend on
scale or speed, and the knee of a step run is the one the rule and Kneedle name."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.calendar import WorkingCalendar, calendar_from_settings
from app.core.config import Settings
from loadtest.judge.knee import judge_step, kept_to_schedule, knee, kneedle
from loadtest.metrics import Window, WindowGroup
from loadtest.model.arrivals import generate_arrivals
from loadtest.model.thresholds import parse_rules
from loadtest.model.workload import (
    DiurnalShape,
    SoakShape,
    StepShape,
    SurgeShape,
    WorkloadError,
    load_workload,
)
from loadtest.model.world import World, generated_catalogue
from loadtest.results_model import Percentiles, Step
from tests.loadtest.model.test_world_and_arrivals import (
    MONDAY,
    make_world,
    one_agency_world,
    timeline,
    within_sd,
)

SPEED = 600.0


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return calendar_from_settings(Settings(_env_file=None))


def shaped(world: World, shape: DiurnalShape) -> World:
    return replace(world, shape=shape.model_dump())


def submissions(world: World, calendar: WorkingCalendar) -> list[float]:
    """Real offsets into the run of the online submissions."""
    workload = load_workload()
    return [
        a.at - world.timeline.start_real
        for a in generate_arrivals(world, workload, 0, calendar)
        if a.kind == "submit"
    ]


def test_a_step_shape_offers_each_steps_level(calendar: WorkingCalendar) -> None:
    # Flat demand: 2,400 dossiers a working day; 4 steps of 60 s at 1x, 2x, 3x, 4x.
    step = StepShape(start=1, increment=1, steps=4, step_duration="60s")
    line = timeline(MONDAY, 4 * 60 * SPEED / 3600)
    world = shaped(one_agency_world(line, online_per_day=2400, counter_per_day=0), step)
    offsets = submissions(world, calendar)
    week_mean = sum(load_workload().profile.weekly) / 7
    per_real_second = 2400 * week_mean / 86400 * SPEED
    for index in range(4):
        count = sum(1 for t in offsets if index * 60 <= t < (index + 1) * 60)
        assert within_sd(count, per_real_second * 60 * step.level_of(index))


def test_a_surge_multiplies_the_profile_only_in_its_window(calendar: WorkingCalendar) -> None:
    surge = SurgeShape(factor=5, at="100s", lasting="100s")
    line = timeline(MONDAY.replace(hour=8), 300 * SPEED / 3600)
    plain = one_agency_world(line, online_per_day=3000, counter_per_day=0)
    before = submissions(plain, calendar)
    after = submissions(shaped(plain, surge), calendar)

    def count(offsets: list[float], low: float, high: float) -> int:
        return sum(1 for t in offsets if low <= t < high)

    inside = count(before, 100, 200)
    assert within_sd(count(after, 100, 200), 5 * inside, sds=5)
    # Outside the window the thinned process keeps the plain one's rate.
    outside = count(before, 0, 100) + count(before, 200, 300)
    assert within_sd(count(after, 0, 100) + count(after, 200, 300), outside, sds=5)


def test_the_diurnal_shape_is_the_plain_schedule(calendar: WorkingCalendar) -> None:
    line = timeline(MONDAY, 24)
    plain = one_agency_world(line, online_per_day=500, counter_per_day=200)
    workload = load_workload()
    assert generate_arrivals(plain, workload, 0, calendar) == generate_arrivals(
        shaped(plain, DiurnalShape()), workload, 0, calendar
    )


def test_a_soak_is_flat_round_the_clock(calendar: WorkingCalendar) -> None:
    line = timeline(MONDAY, 48)
    world = shaped(one_agency_world(line, online_per_day=4000, counter_per_day=0), SoakShape())
    hours = [0] * 24
    for arrival in generate_arrivals(world, load_workload(), 0, calendar):
        if arrival.kind == "submit":
            hours[int(line.sim(arrival.at) - line.sim_start) // 3600 % 24] += 1
    mean = sum(hours) / 24
    # The diurnal profile has near-empty nights; a soak's every hour is the mean.
    assert all(within_sd(count, mean, sds=5) for count in hours)


def test_the_plan_sizes_pools_and_the_ceiling_for_the_shapes_peak() -> None:
    catalogue = generated_catalogue(0, 3)
    workload = load_workload()
    line = timeline(MONDAY, 24, speed=2400)
    diurnal = make_world(workload, catalogue, line, scale=0.05)
    step = StepShape(start=2, increment=2, steps=5)
    from loadtest.model.world import build_world

    stepped = build_world(
        workload,
        catalogue,
        timeline=line,
        scale=0.05,
        seed=1,
        salt="t",
        workload_name="test",
        shape=step,
    )
    step_plan, diurnal_plan = stepped.require_plan(), diurnal.require_plan()
    assert step_plan.shape["name"] == "step"
    assert step_plan.pools["citizen"] > diurnal_plan.pools["citizen"]
    assert step_plan.pools["backoffice"] > diurnal_plan.pools["backoffice"]
    assert step_plan.requests_per_s["catalogue"] > diurnal_plan.requests_per_s["catalogue"]
    # The national peak is a property of the workload, not of the run's shape.
    assert step_plan.national_peak_rps == diurnal_plan.national_peak_rps


@settings(max_examples=20, deadline=None)
@given(scale=st.floats(0.02, 0.5), speed=st.floats(1, 3600))
def test_the_national_peak_does_not_depend_on_scale_or_speed(scale: float, speed: float) -> None:
    catalogue = generated_catalogue(0, 3)
    workload = load_workload()
    base = make_world(workload, catalogue, timeline(MONDAY, 24, speed=2400), scale=0.05)
    other = make_world(workload, catalogue, timeline(MONDAY, 24, speed=speed), scale=scale)
    assert other.require_plan().national_peak_rps == pytest.approx(
        base.require_plan().national_peak_rps, rel=1e-2
    )


def test_run_length_follows_the_shape() -> None:
    workload = load_workload()
    assert workload.run_seconds(DiurnalShape(), None) == 120
    assert workload.run_seconds(DiurnalShape(), "30s") == 30
    assert workload.run_seconds(StepShape(steps=6, step_duration="15s"), None) == 90
    assert workload.run_seconds(SoakShape(duration="20m"), None) == 1200
    assert workload.run_seconds(SoakShape(duration="20m"), "5m") == 300
    with pytest.raises(WorkloadError, match="steps x step_duration"):
        workload.run_seconds(StepShape(), "60s")
    with pytest.raises(WorkloadError, match="the surge ends 70 s into a run of 60 s"):
        workload.run_seconds(SurgeShape(at="40s", lasting="30s"), "60s")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("ramp", "one of diurnal, surge, soak, step"),
        ("step:steps=1", "steps: Input should be greater than or equal to 2"),
        ("step:colour=red", "colour: Extra inputs are not permitted"),
        ("surge:factor", "'factor' is not key=value"),
        ("step:slo=business.on_time_share", "slo"),
    ],
)
def test_a_bad_shape_is_refused_in_one_line(spec: str, message: str) -> None:
    with pytest.raises(WorkloadError, match=message):
        load_workload().shape(spec)


def test_shape_overrides_apply() -> None:
    shape = load_workload().shape("step:start=2,increment=0.5,steps=3,step_duration=10s")
    assert isinstance(shape, StepShape)
    assert [shape.level_of(i) for i in range(3)] == [2.0, 2.5, 3.0]
    assert shape.multiplier(25.0) == 3.0


def test_a_step_slo_must_be_judged_on_http_figures() -> None:
    with pytest.raises(ValueError, match="a step is judged on"):
        StepShape(slo=["audit.ok"])


# --- judging steps, and the knee ---------------------------------------------------------------


def window(offered: float, p99: float, errors: int = 0, count: int = 1000) -> Window:
    latency = Percentiles(p50=p99 / 4, p90=p99 / 2, p95=p99 / 1.5, p99=p99, p999=p99, max=p99)
    return Window(
        from_s=0.0,
        to_s=20.0,
        offered_rps=offered,
        achieved_rps=offered * 3,
        offered=int(offered * 20),
        late=0,
        count=count,
        failures=errors,
        error_rate=errors / count,
        latency_ms=latency,
        groups={"submit": WindowGroup(count=count, failures=errors, latency_ms=latency)},
    )


SLO = parse_rules(["all.p99_ms < 500", "errors.rate < 0.01", "submit.error_rate < 0.01"])


def steps_of(series: list[tuple[float, float, int]]) -> list[Step]:
    return [
        judge_step(i, float(i + 1), window(rate, p99, errors), SLO)
        for i, (rate, p99, errors) in enumerate(series)
    ]


def test_a_step_breaking_latency_or_errors_is_named() -> None:
    met, slow, failing = steps_of([(10, 100, 0), (20, 900, 0), (30, 100, 50)])
    assert met.met
    assert not met.broken
    assert not slow.met
    assert slow.broken == ["broken: all.p99_ms < 500 (measured 900)"]
    assert not failing.met
    assert any("errors.rate" in line for line in failing.broken)
    assert any("submit.error_rate" in line for line in failing.broken)


def test_the_knee_is_the_last_met_step_before_the_first_broken_one() -> None:
    # A healthy curve up to 40/s, then latency takes off; step 6 looks fine again (load shed).
    series: list[tuple[float, float, int]] = [(10, 50, 0), (20, 55, 0), (30, 60, 0), (40, 80, 0)]
    series += [(50, 700, 0), (60, 3000, 0), (70, 90, 0)]
    found = knee(steps_of(series), national_peak_rps=8.0)
    assert found.rps == 120  # the requests completed in the step (three per arrival here)
    assert found.offered_arrivals_rps == 40
    assert found.step == 3
    assert found.first_broken_step == 4
    assert found.saturated is True
    assert found.multiple_of_national_peak == 15.0


def test_kneedle_finds_the_bend_of_a_convex_latency_curve() -> None:
    rates = [10.0, 20, 30, 40, 50, 60, 70, 80]
    p99 = [20.0, 21, 22, 23, 25, 60, 200, 800]
    bend = kneedle(rates, p99)
    assert bend is not None
    assert 50 <= bend <= 70
    assert kneedle(rates, [10.0] * 8) is None  # no bend in a flat curve
    assert kneedle([10.0, 20.0], [1.0, 2.0]) is None


def test_no_knee_when_the_first_step_breaks_and_a_floor_when_none_does() -> None:
    first_broken = knee(steps_of([(10, 900, 0), (20, 950, 0)]), national_peak_rps=5.0)
    assert first_broken.rps is None
    assert first_broken.multiple_of_national_peak is None
    never = knee(steps_of([(10, 50, 0), (20, 60, 0)]), national_peak_rps=5.0)
    assert never.rps == 60
    assert never.saturated is False


def test_a_step_run_is_valid_when_it_kept_to_schedule_up_to_the_knee() -> None:
    steps = steps_of([(10, 50, 0), (20, 60, 0), (30, 2000, 0)])
    steps = [
        step.model_copy(update={"offered": offered, "late": late})
        for step, (offered, late) in zip(steps, [(1000, 0), (2000, 15), (3000, 900)], strict=True)
    ]
    # 15 of 3,000 before the knee: within 1%; the saturated step's 900 do not count.
    assert kept_to_schedule(steps, 0.01) is True
    steps[1] = steps[1].model_copy(update={"late": 40})
    assert kept_to_schedule(steps, 0.01) is False
    assert kept_to_schedule(steps_of([(10, 5000, 0)]), 0.01) is False  # nothing before a knee
