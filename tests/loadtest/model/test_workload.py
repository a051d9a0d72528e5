"""The workload model: the default file loads, bad files are refused naming the key, and the
arithmetic that turns the file into rates (demand per agency, the hourly profile, staffing, the
ceiling, pool sizes) keeps the totals the file states."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.calendar import calendar_from_settings
from app.core.config import Settings
from loadtest.drive.run import RunOptions, plan
from loadtest.model.workload import (
    DEFAULT_WORKLOAD,
    LEVELS,
    Level,
    ProfileSection,
    VolumesSection,
    Workload,
    WorkloadError,
    agency_demand,
    hourly_rate,
    load_workload,
    officers_for,
    parse_duration,
    period_dossiers,
)
from loadtest.model.world import Plan, check_ceiling, pool_size

# --- load_workload ---------------------------------------------------------------------------


def test_default_workload_file_loads_with_its_stated_numbers() -> None:
    workload = load_workload()
    assert DEFAULT_WORKLOAD.name == "workload.toml"
    assert workload.volumes.dossiers_per_working_day == 124_000
    assert workload.volumes.online_share == pytest.approx(0.747)
    assert workload.scope.agencies == 12
    assert workload.queueing is None
    assert not workload.is_queueing
    # The validator normalises the hourly profiles to shares of a day.
    assert math.fsum(workload.profile.online_hourly) == pytest.approx(1.0)
    assert math.fsum(workload.profile.counter_hourly) == pytest.approx(1.0)
    # The counter profile keeps the lunch gap of the file.
    assert workload.profile.counter_hourly[12] == 0
    assert len(workload.profile.weekly) == 7
    assert math.fsum(workload.levels.share(level) for level in LEVELS) == pytest.approx(1.0)


def test_a_path_given_as_text_loads_too(tmp_path: Path) -> None:
    path = tmp_path / "small.toml"
    path.write_text("[run]\nscale = 0.5\nduration = '10m'\n", encoding="utf-8")
    workload = load_workload(str(path))
    assert workload.run.scale == 0.5
    assert workload.run.duration == "10m"
    # Everything the file leaves out keeps its default.
    assert workload.volumes == Workload().volumes


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[run]\nbogus = 1\n", "run.bogus"),
        ("[nonsense]\nx = 1\n", "nonsense"),
        ("[volumes]\nonline_share = 1.5\n", "volumes.online_share"),
        ("[volumes]\ndossiers_per_working_day = 0\n", "volumes.dossiers_per_working_day"),
        ("[run]\nduration = 'soon'\n", "run.duration"),
        ("[run]\nscale = 'big'\n", "run.scale"),
        ("[profile]\nonline_hourly = [1.0, 2.0]\n", "profile.online_hourly"),
        ("[profile]\ncounter_hourly = " + str([0.0] * 24) + "\n", "profile.counter_hourly"),
        ("[profile]\nweekly = [1, 1, 1, 1, 1, 1, -1]\n", "profile.weekly"),
        ("[staffing]\ntarget_utilisation = 1.0\n", "staffing.target_utilisation"),
        ("[payments.cards]\nsuccess = 2\n", "payments.cards.success"),
        ("[queueing]\nofficers = 0\n", "queueing.officers"),
        ("[queueing]\nlevel = 'district'\n", "queueing.level"),
    ],
)
def test_bad_workload_is_refused_naming_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WorkloadError) as caught:
        load_workload(path)
    message = str(caught.value)
    assert f": {key}:" in message
    assert str(path) in message


def test_missing_file_and_broken_toml_are_workload_errors(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError, match="no workload file"):
        load_workload(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[run\nscale = 1\n", encoding="utf-8")
    with pytest.raises(WorkloadError, match="not valid TOML"):
        load_workload(broken)


# --- parse_duration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90.0),
        ("10m", 600.0),
        ("1h30m", 5400.0),
        ("45", 45.0),
        ("2h", 7200.0),
        ("1.5h", 5400.0),
        (" 2m 5s ", 125.0),
        ("1h0m30s", 3630.0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "  ", "soon", "10x", "s", "m", "-5", "5m10h", "0", "0s"])
def test_parse_duration_refuses_bad_text(text: str) -> None:
    with pytest.raises(WorkloadError, match="duration"):
        parse_duration(text)


@given(hours=st.integers(0, 48), minutes=st.integers(0, 59), seconds=st.integers(0, 59))
def test_parse_duration_adds_its_parts(hours: int, minutes: int, seconds: int) -> None:
    total = hours * 3600 + minutes * 60 + seconds
    text = f"{hours}h{minutes}m{seconds}s"
    if total == 0:
        with pytest.raises(WorkloadError):
            parse_duration(text)
    else:
        assert parse_duration(text) == total


# --- agency_demand ---------------------------------------------------------------------------

shares = st.floats(0, 1, allow_nan=False)


@settings(max_examples=200)
@given(
    per_day=st.floats(1, 1e6, allow_nan=False),
    online=shares,
    level_shares=st.tuples(shares, shares, shares),
    counts=st.tuples(st.integers(1, 500), st.integers(1, 500), st.integers(1, 500)),
    scale=st.floats(0.001, 20, allow_nan=False),
)
def test_agency_demand_shares_each_levels_volume(
    per_day: float,
    online: float,
    level_shares: tuple[float, float, float],
    counts: tuple[int, int, int],
    scale: float,
) -> None:
    workload = Workload.model_validate(
        {
            "volumes": {"dossiers_per_working_day": per_day, "online_share": online},
            "levels": dict(zip(LEVELS, level_shares, strict=True)),
        }
    )
    total = 0.0
    for level, count in zip(LEVELS, counts, strict=True):
        demand = agency_demand(workload, level, count, scale)
        assert demand.online_per_day >= 0
        assert demand.counter_per_day >= 0
        assert demand.online_per_day == pytest.approx(demand.per_day * online, abs=1e-9)
        total += demand.per_day * count
    expected = per_day * scale * math.fsum(level_shares)
    assert total == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_agency_demand_of_a_level_without_agencies_is_nothing() -> None:
    demand = agency_demand(Workload(), "central", 0, 1.0)
    assert demand.per_day == 0.0


def test_agency_demand_at_scale_one_of_the_default_file() -> None:
    workload = load_workload()
    demand = agency_demand(workload, "commune", 100, 1.0)
    # 124,000 dossiers x 60% at commune level over 100 communes, 74.7% of them online.
    assert demand.per_day == pytest.approx(744.0)
    assert demand.online_per_day == pytest.approx(744.0 * 0.747)
    assert demand.counter_per_day == pytest.approx(744.0 * 0.253)


def days_between(first: date, last: date) -> list[tuple[int, bool]]:
    calendar = calendar_from_settings(Settings(_env_file=None))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [(day.weekday(), calendar.is_working_day(day)) for day in days]


def test_scale_one_puts_the_published_two_tier_period_on_the_34_provinces() -> None:
    # 1 July - 19 August 2025: 4.4 M dossiers received by the 34 provinces, 74.7% online (the
    # source is beside the figures in workload.toml). The file's dossiers per working day, through
    # the weekly profile and the portal's calendar, give that total at the province and commune
    # levels, to the rounding of the file's figure.
    workload = load_workload()
    period = days_between(date(2025, 7, 1), date(2025, 8, 19))
    assert sum(working for _, working in period) == 36  # no holiday in the period
    local = workload.levels.share("province") + workload.levels.share("commune")
    assert period_dossiers(workload, period) * local == pytest.approx(4_400_000, rel=0.001)


def test_a_period_counts_online_dossiers_at_the_weekend_and_counters_only_on_working_days() -> None:
    workload = Workload(
        volumes=VolumesSection(dossiers_per_working_day=1000, online_share=0.6),
        profile=ProfileSection(weekly=[1.2, 1.0, 1.0, 1.0, 0.8, 0.2, 0.1]),
    )
    week = [(weekday, weekday < 5) for weekday in range(7)]
    assert period_dossiers(workload, week) == pytest.approx(1000 * (5.0 + 0.6 * 0.3))
    # A holiday on a Tuesday: the counter is closed, online goes on at Sunday's weight; a
    # compensatory working Saturday is an ordinary working day for both.
    assert period_dossiers(workload, [(1, False)]) == pytest.approx(1000 * 0.6 * 0.1)
    assert period_dossiers(workload, [(5, True)]) == pytest.approx(1000.0)


def test_the_2022_calibration_keeps_its_national_peak() -> None:
    # Runs made before the 2025 figures stay repeatable: the named workload is the old default,
    # whose national peak on the default catalogue was 22.3 requests/s (benchmarks/README.md).
    path = DEFAULT_WORKLOAD.parent / "workloads" / "national-2022.toml"
    workload = load_workload(path)
    assert workload.volumes.dossiers_per_working_day == 39_000
    assert workload.volumes.online_share == pytest.approx(0.58)
    assert workload.run.scale == 0.05
    assert plan(RunOptions(workload=path)).national_peak_rps == pytest.approx(22.3, abs=0.05)
    # ... and the default workload's is the 2025 one, 4.1 times the online dossiers.
    assert plan(RunOptions()).national_peak_rps == pytest.approx(91.4, abs=0.1)


# --- hourly_rate -----------------------------------------------------------------------------

weights = st.floats(0, 100, allow_nan=False)


@settings(max_examples=200)
@given(
    raw=st.lists(weights, min_size=24, max_size=24).filter(lambda w: sum(w) > 0),
    weekly=st.lists(st.floats(0, 3, allow_nan=False), min_size=7, max_size=7),
    weekday=st.integers(0, 6),
    per_day=st.floats(0, 1e5, allow_nan=False),
)
def test_hourly_rate_integrates_to_the_days_volume(
    raw: list[float], weekly: list[float], weekday: int, per_day: float
) -> None:
    profile = ProfileSection(online_hourly=raw, weekly=weekly)
    day = math.fsum(
        hourly_rate(per_day, profile.weekly[weekday], profile.online_hourly, hour)
        for hour in range(24)
    )
    assert day == pytest.approx(per_day * weekly[weekday], rel=1e-9, abs=1e-9)
    # An hour the raw profile leaves empty gets no arrivals.
    for hour, weight in enumerate(raw):
        if weight == 0:
            assert hourly_rate(per_day, profile.weekly[weekday], profile.online_hourly, hour) == 0


@pytest.mark.parametrize(
    "data", [{}, {"profile": {"weekly": [1.0] * 5 + [0.0] * 2}}], ids=["no profile", "weekly only"]
)
def test_default_profiles_spread_one_day_over_the_day(data: dict[str, object]) -> None:
    profile = Workload.model_validate(data).profile
    assert math.fsum(profile.online_hourly) == pytest.approx(1.0)
    assert math.fsum(profile.counter_hourly) == pytest.approx(1.0)


def test_profile_validator_refuses_an_empty_or_short_profile() -> None:
    with pytest.raises(ValueError, match="24 non-negative"):
        ProfileSection(online_hourly=[0.0] * 24)
    with pytest.raises(ValueError, match="24 non-negative"):
        ProfileSection(counter_hourly=[1.0] * 23)
    with pytest.raises(ValueError, match="24 non-negative"):
        ProfileSection(online_hourly=[1.0] * 23 + [-1.0])


# --- officers_for ----------------------------------------------------------------------------


def test_fixed_officers_win_over_the_utilisation_rule() -> None:
    workload = Workload.model_validate({"staffing": {"officers_commune": 5}})
    assert officers_for(workload, "commune", 1000.0, 8.0) == 5
    assert officers_for(workload, "commune", 0.0, 8.0) == 5
    # Other levels still follow the rule.
    assert officers_for(workload, "province", 16.0, 8.0) == math.ceil(2 / 0.7)


@pytest.mark.parametrize(
    ("work_hours", "utilisation", "expected"),
    [
        (0.0, 0.7, 1),  # no work: still one officer
        (0.1, 0.7, 1),
        (5.6, 0.7, 1),  # exactly one officer at 70%
        (5.7, 0.7, 2),
        (16.0, 0.5, 4),
        (80.0, 0.8, 13),  # 10 officers' work at 80% -> 12.5 -> 13
    ],
)
def test_officers_follow_the_utilisation_rule(
    work_hours: float, utilisation: float, expected: int
) -> None:
    workload = Workload.model_validate({"staffing": {"target_utilisation": utilisation}})
    assert officers_for(workload, "central", work_hours, 8.0) == expected


@given(
    work=st.floats(0, 1e4, allow_nan=False),
    utilisation=st.floats(0.05, 0.95),
    level=st.sampled_from(LEVELS),
)
def test_officers_have_capacity_for_the_target_utilisation(
    work: float, utilisation: float, level: Level
) -> None:
    workload = Workload.model_validate({"staffing": {"target_utilisation": utilisation}})
    officers = officers_for(workload, level, work, 8.0)
    assert officers >= 1
    # Enough officers for the utilisation, and not one more than needed.
    assert work / 8.0 <= officers * utilisation * (1 + 1e-9)
    if officers > 1:
        assert work / 8.0 > (officers - 1) * utilisation * (1 - 1e-9)


# --- check_ceiling ---------------------------------------------------------------------------


def make_plan(requests_per_s: dict[str, float], ceiling: float) -> Plan:
    return Plan(
        workload="test",
        scale=2.0,
        speed=600.0,
        real_seconds=60.0,
        simulated_hours=10.0,
        agencies=3,
        officers=9,
        arrivals_per_s={"citizen": 1.0},
        requests_per_s=requests_per_s,
        pools={"citizen": 2},
        ceiling_rps=ceiling,
        shape={"name": "diurnal"},
        national_peak_rps=10.0,
        demand_rps=5.0,
    )


def test_a_plan_above_the_ceiling_is_refused_naming_the_rate() -> None:
    plan = make_plan({"catalogue": 180.0, "citizen": 120.0}, ceiling=250.0)
    assert plan.total_rps == 300.0
    with pytest.raises(WorkloadError) as caught:
        check_ceiling(plan.section(), force=False)
    message = str(caught.value)
    assert "300 requests/s" in message
    assert "catalogue 180/s" in message  # the busiest route group
    assert "250/s" in message
    assert "--force" in message


def test_force_runs_a_plan_above_the_ceiling_and_a_plan_below_passes() -> None:
    check_ceiling(
        make_plan({"catalogue": 180.0, "citizen": 120.0}, ceiling=250.0).section(), force=True
    )
    check_ceiling(
        make_plan({"catalogue": 100.0, "citizen": 150.0}, ceiling=250.0).section(), force=False
    )


def test_plan_section_carries_the_total() -> None:
    figures = make_plan({"catalogue": 1.23456, "citizen": 2.0}, ceiling=250.0).section()
    assert figures.total_rps == pytest.approx(3.235, abs=1e-3)
    assert figures.requests_per_s == {"catalogue": 1.235, "citizen": 2.0}


# --- pool_size -------------------------------------------------------------------------------


@given(
    low=st.floats(0, 1e4, allow_nan=False),
    extra=st.floats(0, 1e4, allow_nan=False),
    seconds=st.floats(0.01, 60, allow_nan=False),
    minimum=st.integers(1, 5),
)
def test_pool_size_is_monotone_in_the_rate(
    low: float, extra: float, seconds: float, minimum: int
) -> None:
    small = pool_size(low, seconds, minimum=minimum)
    large = pool_size(low + extra, seconds, minimum=minimum)
    assert minimum <= small <= large
    # Little's law with the margin: more users than the mean number busy.
    assert large >= (low + extra) * seconds


def test_pool_size_minimum() -> None:
    assert pool_size(0.0, 1.0) == 2
    assert pool_size(0.0, 1.0, minimum=1) == 1
    assert pool_size(10.0, 1.0) == 41
