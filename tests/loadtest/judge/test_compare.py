"""Comparing two runs: runs drawn from the same distribution come out `~`, a real change in one
group is named on that group, plans that differ are refused, and too little data never gives a
verdict. Synthetic runs draw each interval's requests from a seeded log-normal, so the figures
carry the noise a real run has."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadtest.judge.compare import (
    ALL,
    BUSINESS,
    SCHEMA,
    CompareError,
    Comparison,
    Row,
    compare_runs,
    kept_intervals,
    mann_whitney_p,
    two_proportion_p,
)
from loadtest.results_model import Results, ResultsError, load_results
from tests.loadtest.judge.results_data import SAMPLE, results_with, stored

SECONDS = 5.0
# group -> (median latency ms, requests per second): catalogue dominates, as in a real run.
GROUPS = {
    "catalogue": (6.0, 30.0),
    "agency": (8.0, 15.0),
    "submit": (9.0, 8.0),
    "sync": (15.0, 6.0),
}


def make_results(
    seed: int,
    *,
    intervals: int = 24,
    slower: dict[str, float] | None = None,
    error_rates: dict[str, float] | None = None,
    on_time: float = 0.95,
    measured: int = 2000,
    run_id: str | None = None,
    group_failures: bool = True,
) -> dict[str, Any]:
    """A results dict of `intervals` 5-second intervals whose requests are drawn, per group, from
    a log-normal around the group's median (times `slower[group]`), failing at
    `error_rates[group]`; the business counts are binomial draws around their shares."""
    rng = np.random.default_rng(seed)
    slower, error_rates = slower or {}, error_rates or {}
    series = []
    for index in range(intervals):
        groups: dict[str, dict[str, Any]] = {}
        failures: dict[str, int] = {}
        everything = []
        for group, (median_ms, rps) in GROUPS.items():
            count = int(rng.poisson(rps * SECONDS))
            latencies = median_ms * slower.get(group, 1.0) * rng.lognormal(0.0, 0.5, count)
            everything.append(latencies)
            if count:
                groups[group] = {"count": count, **_percentiles(latencies)}
            failed = int(rng.binomial(count, error_rates.get(group, 0.0)))
            if failed:
                failures[group] = failed
        merged = np.concatenate(everything)
        interval: dict[str, Any] = {
            "t": index * SECONDS,
            "seconds": SECONDS,
            "offered_rps": round(len(merged) / SECONDS / 4, 3),
            "started_rps": round(len(merged) / SECONDS / 4, 3),
            "achieved_rps": round(len(merged) / SECONDS, 3),
            "latency_ms": _percentiles(merged),
            "lag_ms": None,
            "errors": {"http_500": sum(failures.values())} if failures else {},
            "groups": groups,
        }
        if group_failures:
            interval["failures"] = failures
        series.append(interval)
    created = 200
    items = 400
    return {
        "schema": "portalsim.results/1",
        "run": {"id": run_id or f"run-{seed}", "seed": seed, "real_seconds": intervals * SECONDS},
        "plan": {
            "workload": "loadtest/workload.toml",
            "scale": 0.05,
            "speed": 2400.0,
            "real_seconds": intervals * SECONDS,
            "agencies": 12,
        },
        "business": {
            "on_time_share": round(float(rng.binomial(measured, on_time)) / measured, 4),
            "measured": measured,
            "latency_working_hours": {
                "p50": round(2.5 * float(rng.lognormal(0, 0.05)), 3),
                "p95": round(4.4 * float(rng.lognormal(0, 0.05)), 3),
                "p99": 5.2,
            },
        },
        "payments": {"created": created, "confirmed": int(rng.binomial(created, 0.97))},
        "sync": {"items": items, "refused": int(rng.binomial(items, 0.01))},
        "timeseries": series,
    }


def _percentiles(values: np.ndarray[Any, Any]) -> dict[str, float]:
    found = np.percentile(values, [50, 90, 95, 99, 99.9, 100])
    keys = ("p50", "p90", "p95", "p99", "p999", "max")
    return {k: round(float(v), 3) for k, v in zip(keys, found, strict=True)}


def typed(data: dict[str, Any]) -> Results:
    """A results dict of the tests below: the sections they set over a real current file's,
    no route groups but those of the intervals."""
    return results_with(**{"groups": {}, **data})


def compare(baseline: dict[str, Any], candidate: dict[str, Any], **options: Any) -> Comparison:
    return compare_runs(typed(baseline), typed(candidate), **options)


def verdicts(comparison: Comparison) -> dict[tuple[str, str], str]:
    return {(row.metric, row.group): row.verdict for row in comparison.rows}


def row_of(comparison: Comparison, metric: str, group: str) -> Row:
    return next(r for r in comparison.rows if r.metric == metric and r.group == group)


# -- the same distribution: no verdict ------------------------------------------------------------


def test_two_runs_of_the_same_distribution_are_all_tilde_for_a_fixed_seed() -> None:
    comparison = compare(make_results(1), make_results(2))
    assert {row.verdict for row in comparison.rows} == {"~"}, [
        (r.metric, r.group, r.p_value, r.change) for r in comparison.rows if r.verdict != "~"
    ]
    assert comparison.regressions == []
    # Every group of either run and `all` have their rows, and the business rows follow.
    groups = {row.group for row in comparison.rows}
    assert groups == {ALL, *GROUPS, BUSINESS}


def test_false_verdicts_over_many_seeds_are_rare() -> None:
    rows = flagged = 0
    for seed in range(10):
        comparison = compare(make_results(100 + seed), make_results(200 + seed))
        rows += len(comparison.rows)
        flagged += sum(1 for row in comparison.rows if row.verdict != "~")
    # Each row is a test at alpha 0.05, culled further by the 5% minimum effect.
    assert flagged <= 0.05 * rows, f"{flagged} of {rows} rows had a verdict"


# -- real changes --------------------------------------------------------------------------------


def test_a_slower_submit_group_is_worse_on_submit_only() -> None:
    comparison = compare(make_results(1), make_results(2, slower={"submit": 1.5}))
    found = verdicts(comparison)
    # 40 requests an interval: samples of p50 and p95; an interval's p99 would be its maximum.
    assert row_of(comparison, "latency p99", "submit").note == "too few intervals"
    for percentile in ("p50", "p95"):
        row = row_of(comparison, f"latency {percentile}", "submit")
        assert row.verdict == "worse"
        assert row.p_value is not None
        assert row.p_value < 0.05
        assert row.change is not None
        assert 0.3 < row.change < 0.8
    # `all` holds submit's requests too and may move; every other group must not.
    others = {k: v for k, v in found.items() if k[1] not in ("submit", ALL)}
    assert set(others.values()) == {"~"}
    assert found[("error rate", "submit")] == "~"
    assert found[("throughput", "submit")] == "~"
    assert all(row.group in ("submit", ALL) for row in comparison.regressions)


def test_a_faster_submit_group_is_better() -> None:
    comparison = compare(make_results(1), make_results(2, slower={"submit": 0.6}))
    for percentile in ("p50", "p95"):
        assert row_of(comparison, f"latency {percentile}", "submit").verdict == "better"
    assert not any(row.group == "submit" for row in comparison.regressions)


def test_errors_on_one_group_are_worse_on_its_error_rate_only() -> None:
    comparison = compare(make_results(1), make_results(2, error_rates={"sync": 0.1}))
    worse = {(row.metric, row.group) for row in comparison.regressions}
    # The `all` row counts every failed request, sync's included.
    assert worse == {("error rate", "sync"), ("error rate", ALL)}
    sync = row_of(comparison, "error rate", "sync")
    assert sync.baseline == 0.0
    assert sync.candidate is not None
    assert 0.05 < sync.candidate < 0.15
    assert sync.change is None  # from zero: no ratio
    assert sync.note == "none in the baseline"
    assert "+inf" in next(
        line for line in comparison.lines() if "error rate" in line and "sync" in line
    )
    assert row_of(comparison, "error rate", "submit").note == "no failures in either run"


def test_throughput_that_drops_is_worse() -> None:
    baseline, candidate = make_results(1), make_results(2)
    for interval in candidate["timeseries"]:
        interval["groups"]["catalogue"]["count"] //= 2
    row = row_of(compare(baseline, candidate), "throughput", "catalogue")
    assert row.verdict == "worse"
    assert row.change is not None
    assert row.change == pytest.approx(-0.5, abs=0.1)


# -- too little data -----------------------------------------------------------------------------


def test_too_few_intervals_give_no_verdict() -> None:
    # 4 intervals of a 20-second run; the one before 2 s is warm-up: 3 samples a side.
    comparison = compare(
        make_results(1, intervals=4), make_results(2, intervals=4, slower={"submit": 3.0})
    )
    for row in comparison.rows:
        if row.group != BUSINESS:
            assert row.verdict == "~"
            assert "too few intervals" in row.note
            assert row.p_value is None
    # The change is still shown.
    assert row_of(comparison, "latency p50", "submit").change == pytest.approx(2.0, abs=0.5)


def test_warm_up_intervals_are_dropped() -> None:
    results = make_results(1, intervals=20)  # 100 s: intervals before 10 s are warm-up
    assert [i.t for i in kept_intervals(typed(results))] == [10.0 + 5 * k for k in range(18)]


def test_a_group_busy_in_too_few_intervals_is_tilde() -> None:
    baseline, candidate = make_results(1), make_results(2, slower={"sync": 2.0})
    for results in (baseline, candidate):
        for interval in results["timeseries"][4:]:
            interval["groups"]["sync"]["count"] = 4  # below the 5 requests a sample needs
    row = row_of(compare(baseline, candidate), "latency p95", "sync")
    assert (row.verdict, row.note, row.n_baseline) == ("~", "too few intervals", 1)


# -- business figures ----------------------------------------------------------------------------


@pytest.mark.parametrize(("measured", "verdict"), [(2000, "worse"), (10, "~")])
def test_an_on_time_share_drop_needs_enough_dossiers(measured: int, verdict: str) -> None:
    baseline, candidate = make_results(1), make_results(2)
    baseline["business"].update(on_time_share=0.95, measured=measured)
    candidate["business"].update(on_time_share=0.80, measured=measured)
    row = row_of(compare(baseline, candidate), "on-time share", BUSINESS)
    assert row.verdict == verdict
    assert row.change == pytest.approx(-0.15)
    assert row.change_unit == "points"


def test_a_small_significant_share_change_is_below_the_minimum_effect() -> None:
    baseline, candidate = make_results(1), make_results(2)
    baseline["business"].update(on_time_share=0.95, measured=200_000)
    candidate["business"].update(on_time_share=0.94, measured=200_000)
    row = row_of(compare(baseline, candidate), "on-time share", BUSINESS)
    assert row.p_value is not None
    assert row.p_value < 1e-6
    assert row.verdict == "~"  # one point: real, but under the 2-point minimum


def test_payment_and_sync_shares_are_tested() -> None:
    baseline, candidate = make_results(1), make_results(2)
    baseline["payments"].update(created=500, confirmed=495)
    candidate["payments"].update(created=500, confirmed=400)
    baseline["sync"].update(items=1000, refused=5)
    candidate["sync"].update(items=1000, refused=80)
    found = verdicts(compare(baseline, candidate))
    assert found[("payments confirmed", BUSINESS)] == "worse"
    assert found[("sync refused", BUSINESS)] == "worse"
    found = verdicts(compare(candidate, baseline))
    assert found[("payments confirmed", BUSINESS)] == "better"
    assert found[("sync refused", BUSINESS)] == "better"


def test_business_latency_is_informational_without_per_dossier_samples() -> None:
    baseline, candidate = make_results(1), make_results(2)
    candidate["business"]["latency_working_hours"]["p95"] = (
        2 * baseline["business"]["latency_working_hours"]["p95"]
    )
    row = row_of(compare(baseline, candidate), "business latency p95", BUSINESS)
    assert row.change == pytest.approx(1.0)
    assert (row.verdict, row.p_value) == ("~", None)
    assert "no per-dossier samples" in row.note


def test_business_latency_with_per_dossier_samples_is_tested() -> None:
    rng = np.random.default_rng(7)
    baseline, candidate = make_results(1), make_results(2)
    for results, factor in ((baseline, 1.0), (candidate, 1.6)):
        hours = (2.5 * factor * rng.lognormal(0, 0.4, 300)).tolist()
        results["business"]["samples"] = {"latency_working_hours": hours}
        results["business"]["latency_working_hours"] = {
            "p50": float(np.percentile(hours, 50)),
            "p95": float(np.percentile(hours, 95)),
            "p99": float(np.percentile(hours, 99)),
        }
    comparison = compare(baseline, candidate)
    for percentile in ("p50", "p95"):
        row = row_of(comparison, f"business latency {percentile}", BUSINESS)
        assert (row.verdict, row.n_baseline) == ("worse", 300)


# -- plans ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [("speed", 600.0), ("scale", 1.0), ("agencies", 3), ("shape", {"name": "surge"})],
)
def test_runs_of_different_plans_are_refused_naming_the_key(key: str, value: Any) -> None:
    candidate = make_results(2)
    candidate["plan"][key] = value
    with pytest.raises(CompareError, match=rf"plans differ: {key} ") as raised:
        compare(make_results(1), candidate)
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_allow_plan_change_compares_and_says_so() -> None:
    candidate = make_results(2)
    candidate["plan"]["speed"] = 600.0
    comparison = compare(make_results(1), candidate, allow_plan_change=True)
    assert comparison.plan_changes == {"speed": (2400.0, 600.0)}
    assert any("speed" in note for note in comparison.notes)
    assert json.loads(comparison.to_json())["plan_changes"] == {"speed": [2400.0, 600.0]}


def test_a_different_seed_is_not_a_plan_change() -> None:
    comparison = compare(make_results(1), make_results(2))
    assert comparison.plan_changes == {}
    document = comparison.document()
    assert (document.baseline.seed, document.candidate.seed) == (1, 2)


def test_a_file_that_is_not_results_is_refused(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text('{"schema": "something/2"}', encoding="utf-8")
    with pytest.raises(ResultsError, match=r"is not a portalsim results file"):
        load_results(tmp_path / "results.json")


# -- files without per-group failures ------------------------------------------------------------


def test_a_file_without_per_group_failures_gives_no_group_error_verdict() -> None:
    comparison = compare(
        make_results(1, group_failures=False), make_results(2, error_rates={"sync": 0.2})
    )
    row = row_of(comparison, "error rate", "sync")
    assert (row.verdict, row.baseline) == ("~", None)
    assert row.note == "no per-group failures in the baseline results"
    # `all` counts failures from `errors`, present in every file.
    assert row_of(comparison, "error rate", ALL).verdict == "worse"


# -- output --------------------------------------------------------------------------------------


def test_lines_are_an_aligned_table_under_a_header_naming_test_thresholds_and_runs() -> None:
    comparison = compare(
        make_results(1, run_id="base"), make_results(2, run_id="cand", slower={"submit": 1.5})
    )
    lines = comparison.lines()
    header = lines[0]
    for part in ("base", "cand", "Mann-Whitney U", "alpha 0.05", "min effect 5%", "2 pt"):
        assert part in header
    columns = lines[1]
    assert columns.split() == [
        "group",
        "metric",
        "baseline",
        "candidate",
        "change",
        "p",
        "q",
        "n",
        "verdict",
    ]
    at = columns.index("verdict")
    body = lines[2:]
    assert len(body) == len(comparison.rows)
    for line, row in zip(body, comparison.rows, strict=True):
        assert line[at:].startswith(row.verdict), line
        assert line.startswith(row.group)
    submit = body[comparison.rows.index(row_of(comparison, "latency p50", "submit"))]
    assert "ms" in submit
    assert "p=0.000" in submit
    assert "+" in submit.split("ms")[2]  # the change, e.g. +48.2%


def test_the_json_is_json_ready() -> None:
    comparison = compare(make_results(1), make_results(2, error_rates={"sync": 0.1}))
    found = json.loads(comparison.to_json())
    json.dumps(found, allow_nan=False)  # no NaN, no inf
    assert found["schema"] == SCHEMA
    assert found["method"]["alpha"] == 0.05
    assert found["summary"]["worse"] == len(comparison.regressions) == len(found["regressions"])
    assert len(found["rows"]) == len(comparison.rows)
    assert set(found["rows"][0]) >= {
        "metric", "group", "baseline", "candidate", "change", "p_value", "verdict", "note",
    }  # fmt: skip


# -- a run against itself ------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    intervals=st.integers(0, 30),
    error_rate=st.sampled_from([0.0, 0.01, 0.3]),
    group_failures=st.booleans(),
    on_time=st.floats(0.0, 1.0),
)
def test_a_run_compared_with_itself_is_tilde_with_no_change(
    seed: int, intervals: int, error_rate: float, group_failures: bool, on_time: float
) -> None:
    results = make_results(
        seed,
        intervals=intervals,
        error_rates={"agency": error_rate},
        on_time=on_time,
        group_failures=group_failures,
    )
    comparison = compare(results, copy.deepcopy(results))
    for row in comparison.rows:
        assert row.verdict == "~", row
        if row.baseline is not None:
            assert row.change == 0.0, row
    assert comparison.regressions == []


# -- statistics ----------------------------------------------------------------------------------


def test_the_tests_against_known_values() -> None:
    assert mann_whitney_p([1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]) == pytest.approx(2 / 70)
    assert mann_whitney_p([3.0] * 5, [3.0] * 6) == 1.0
    # 50/100 vs 65/100: pooled 0.575, z = 0.15 / 0.0699 = 2.146, two-sided p = 0.0319
    assert two_proportion_p(0.50, 100, 0.65, 100) == pytest.approx(0.0319, abs=1e-4)
    assert two_proportion_p(1.0, 40, 1.0, 50) == 1.0


# -- the real sample -----------------------------------------------------------------------------


def sample() -> dict[str, Any]:
    """The stored results.json of the oldest format (its sections replace the current's)."""
    return stored(SAMPLE)


def test_the_sample_run_against_itself_is_all_tilde() -> None:
    results = sample()
    comparison = compare(results, copy.deepcopy(results))
    assert {row.verdict for row in comparison.rows} == {"~"}
    assert any("both runs used seed" in note for note in comparison.notes)
    assert len(comparison.lines()) == 2 + len(comparison.notes) + len(comparison.rows)
    json.dumps(json.loads(comparison.to_json()), allow_nan=False)


def test_the_sample_run_is_too_short_for_a_verdict_once_the_tests_are_counted() -> None:
    """30 s of 5-second intervals, the first warm-up: 5 + 5 samples. A doubled catalogue p50 is
    as separated as 5 + 5 samples can be (p = 0.008), yet among the comparison's ~25 tests that
    is not enough: the row says so, and its verdict is `~`."""
    baseline = sample()
    candidate = copy.deepcopy(baseline)
    candidate["run"].update(id="slower", seed=2)
    for interval in candidate["timeseries"]:
        stats = interval["groups"].get("catalogue")
        if stats:
            for key in ("p50", "p95", "p99"):
                stats[key] *= 2
    comparison = compare(baseline, candidate)
    assert comparison.regressions == []
    row = row_of(comparison, "latency p50", "catalogue")
    assert row.n_baseline == 5
    assert row.p_value is not None
    assert row.p_value < 0.05
    assert row.q_value is not None
    assert row.q_value >= 0.05
    assert "not once the" in row.note
    # Only intervals of 100 catalogue requests or more give a p99 sample: none here.
    assert row_of(comparison, "latency p99", "catalogue").note == "too few intervals"
    # A group seldom busy enough in one interval is "too few intervals", never a verdict.
    assert row_of(comparison, "latency p50", "gateway").note == "too few intervals"
