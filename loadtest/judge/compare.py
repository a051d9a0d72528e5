"""Compare two load runs (two `portalsim.results/1` files) with a verdict that knows the noise.

Two runs of the same plan with different seeds never give the same figures: arrivals are a
Poisson draw, the officers' service times are random, the machine is shared. A bare "p95 went
from 41 to 44 ms" cannot tell a regression from that noise. So, as Go's benchstat does, every
figure is compared as two *samples* with a significance test, and a change is reported only when
it is both significant and large enough to matter.

Samples
    A run reports its route groups per 5-second interval (`results.timeseries`): the count,
    the latency percentiles and (per group) the failures of the requests that completed in that
    interval. One interval is one sample: the p50 samples of group `submit` are the p50 of
    `submit` in each interval, and likewise for p95, p99, the error rate (failures / count) and
    the throughput (count / seconds). A 600-second run gives ~108 samples per figure, a
    30-second one 5 (runs beyond 750 s get longer intervals, at most 150); the whole-run
    percentile is one number and can't be tested at all. Intervals are only approximately
    independent (a queue that builds up in one interval is still there in the next), which
    makes the test somewhat optimistic when a run drifts; 5 s is long enough for a loopback
    portal's queues to drain, short enough for many samples. Nor are they identically
    distributed: the arrival profile moves the load over the run. Two runs of the same plan go
    through the same profile, so their samples come from the same mixture; that is one reason
    runs of different plans are refused.

Rules
    - Intervals starting before 10% of the run (`run.real_seconds`) are dropped: connection
      pools, caches and back-office queues fill up then (the harness's own `warmup_share`
      leaves the same 10% out of the on-time figures). Intervals starting at or after the end
      of the run hold only the drain of requests still in flight and are dropped too.
    - A group's p50 and error-rate samples come only from intervals where it completed at least
      5 requests, its p95 from intervals of at least 20 and its p99 of at least 100: below
      1 / (1 - q) requests an interval's percentile is its slowest request, noise, not a
      sample. Throughput uses every
      kept interval (an interval without requests is a throughput of zero).
    - Fewer than 4 samples on either side: no test (with 4 + 4 samples the smallest possible
      two-sided p is 0.029); the row says "too few intervals" and its verdict is `~`.

Test
    Mann-Whitney U, two-sided (`scipy.stats.mannwhitneyu`), as benchstat: per-interval latency
    percentiles are skewed, heavy-tailed and bounded below, far from normal, so a t-test's
    premise fails; Mann-Whitney assumes nothing about the shape and asks only whether one
    sample tends to be larger than the other. The point change is the ratio of the samples'
    medians, candidate / baseline - 1 (for an error rate: of the pooled rates, failures / count
    over the kept intervals, because the median of mostly-zero interval shares hides sporadic
    failures).
    Shares of whole-run counts (on-time share of measured dossiers, payments confirmed of
    created, sync items refused of sent) are compared with a two-proportion z-test; their change
    is in absolute points. Business latency (working hours, submitted -> returned) exists as
    summary percentiles only: the row shows the change, informational, unless both runs carry
    per-dossier values under `business.samples.latency_working_hours` (a list of hours), which
    are then compared with Mann-Whitney.

Verdicts
    `worse` / `better`: p < alpha (0.05) AND |change| >= the minimum effect (5% relative; 2
    points for shares), in the metric's bad / good direction (latency, error rate and refused
    share up are worse; throughput, on-time share and confirmed share up are better).
    `~`: no difference shown, which is not "no difference": either p >= alpha, or the change
    is too small to matter, or there was no test (too few samples, no data). With alpha 0.05,
    about one `~`-worthy row in twenty will pass the test by chance; the minimum effect culls
    most of those, so a false `worse` is rare but possible: rerun before believing a lone one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from statistics import median
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from scipy.stats import (  # type: ignore[import-untyped]
    false_discovery_control,
    mannwhitneyu,
    norm,
)

from loadtest.results_model import Business, Interval, IntervalGroup, Percentiles, Results

SCHEMA = "portalsim.compare/1"
TEST = "Mann-Whitney U, two-sided, over per-interval samples"
SHARES_TEST = "two-proportion z-test"
MULTIPLICITY = "Benjamini-Hochberg over every test of the comparison"
# What makes two runs the same experiment; the seed is deliberately not here.
PLAN_KEYS = ("workload", "scale", "speed", "real_seconds", "agencies", "shape")
WARMUP_SHARE = 0.1
MIN_COUNT = 5  # requests a group needs in an interval for its p50 (and error rate) to be a sample
# A percentile of an interval is a sample only when the interval holds enough requests for it
# to be more than its maximum: 1 / (1 - q) requests put one above it. Fewer, and an interval's
# p99 is its slowest request, which one stray request moves (measured: reviewer p95/p99 rows of
# 3-request intervals came out "worse" between two runs of one plan).
MIN_COUNT_FOR = {"p50": MIN_COUNT, "p95": 20, "p99": 100}
MIN_SAMPLES = 4  # samples each side needs for a test
MIN_POINTS = 0.02  # minimum effect of a share, in absolute points (0.02 = 2 points)
LATENCY_PERCENTILES = ("p50", "p95", "p99")
ALL = "all"
# The group of the whole-run rows (on-time share, business latency, payments, sync shares).
BUSINESS = "business"

Verdict = Literal["worse", "better", "~"]
ChangeUnit = Literal["relative", "points"]


class CompareError(ValueError):
    """The two runs can't be compared (different plans)."""


@dataclass(frozen=True, kw_only=True)
class Row:
    """One figure of both runs: values, change, the test's p and the verdict. The fields are in
    the order of a row of the comparison's JSON."""

    metric: str
    group: str
    unit: str = ""  # "ms", "share", "rps", "h"
    baseline: float | None
    candidate: float | None
    change: float | None  # relative (0.1 = +10%) or points (0.1 = +10 pt); None: undefined
    change_unit: ChangeUnit = "relative"
    p_value: float | None  # None: no test was possible
    q_value: float | None = None  # p adjusted for every test of the comparison (BH)
    n_baseline: int = 0  # samples: intervals, or dossiers / payments / items for shares
    n_candidate: int = 0
    verdict: Verdict
    note: str = ""


# -- the comparison's JSON (`portalsim.compare/1`) ---------------------------------------------


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RunRef(_Part):
    id: str
    seed: int | None


class Method(_Part):
    test: str = TEST
    shares: str = SHARES_TEST
    multiplicity: str = MULTIPLICITY
    alpha: float
    min_effect: float
    min_points: float
    warmup_share: float = WARMUP_SHARE
    min_count: dict[str, int] = Field(default_factory=lambda: dict(MIN_COUNT_FOR))
    min_samples: int = MIN_SAMPLES


class Summary(_Part):
    worse: int
    better: int
    same: int


class ComparisonFile(_Part):
    """What `portalsim compare --json` prints, and what the report's template reads."""

    format: Literal["portalsim.compare/1"] = Field("portalsim.compare/1", alias="schema")
    baseline: RunRef
    candidate: RunRef
    method: Method
    plan_changes: dict[str, tuple[JsonValue, JsonValue]]  # plan key: (baseline's, candidate's)
    notes: list[str]
    summary: Summary
    regressions: list[str]  # "metric group"
    rows: list[Row]


@dataclass(frozen=True)
class Comparison:
    baseline_id: str
    candidate_id: str
    alpha: float
    min_effect: float
    min_points: float
    rows: list[Row]
    plan_changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    baseline_seed: int | None = None
    candidate_seed: int | None = None

    @property
    def regressions(self) -> list[Row]:
        return [row for row in self.rows if row.verdict == "worse"]

    @property
    def improvements(self) -> list[Row]:
        return [row for row in self.rows if row.verdict == "better"]

    def document(self) -> ComparisonFile:
        return ComparisonFile(
            baseline=RunRef(id=self.baseline_id, seed=self.baseline_seed),
            candidate=RunRef(id=self.candidate_id, seed=self.candidate_seed),
            method=Method(alpha=self.alpha, min_effect=self.min_effect, min_points=self.min_points),
            plan_changes=self.plan_changes,
            notes=list(self.notes),
            summary=Summary(
                worse=len(self.regressions),
                better=len(self.improvements),
                same=sum(1 for row in self.rows if row.verdict == "~"),
            ),
            regressions=[f"{row.metric} {row.group}" for row in self.regressions],
            rows=self.rows,
        )

    def to_json(self) -> str:
        """`portalsim.compare/1`, as `portalsim compare --json` prints it."""
        data = self.document().model_dump(by_alias=True)
        return json.dumps(data, ensure_ascii=False, indent=2)

    def lines(self) -> list[str]:
        """A benchstat-like table: a header naming the runs, the test and the thresholds, then
        one aligned line per row."""
        header = (
            f"baseline {self.baseline_id} vs candidate {self.candidate_id}: "
            f"Mann-Whitney U (two-sided) over per-interval samples, two-proportion z-test for "
            f"shares; alpha {self.alpha:g} on q (p adjusted by Benjamini-Hochberg for the "
            f"{sum(r.p_value is not None for r in self.rows)} tests), min effect "
            f"{self.min_effect * 100:g}% ({self.min_points * 100:g} pt for shares); "
            "~ = no significant change"
        )
        table = [["group", "metric", "baseline", "candidate", "change", "p", "q", "n", "verdict"]]
        for row in self.rows:
            table.append(
                [
                    row.group,
                    row.metric,
                    _value_text(row.baseline, row.unit),
                    _value_text(row.candidate, row.unit),
                    _change_text(row),
                    f"p={row.p_value:.3f}" if row.p_value is not None else "",
                    f"q={row.q_value:.3f}" if row.q_value is not None else "",
                    f"{row.n_baseline}+{row.n_candidate}",
                    row.verdict + (f"  ({row.note})" if row.note else ""),
                ]
            )
        widths = [max(len(cells[i]) for cells in table) for i in range(len(table[0]) - 1)]
        numeric = {2, 3, 4, 7}  # right-aligned, so that digits line up
        out = [header, *(f"note: {note}" for note in self.notes)]
        for cells in table:
            padded = [
                cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
                for i, cell in enumerate(cells[:-1])
            ]
            out.append("  ".join([*padded, cells[-1]]).rstrip())
        return out


# -- the comparison ----------------------------------------------------------------------------


def compare_runs(
    baseline: Results,
    candidate: Results,
    *,
    allow_plan_change: bool = False,
    alpha: float = 0.05,
    min_effect: float = 0.05,
    min_points: float = MIN_POINTS,
) -> Comparison:
    """Compare `candidate` against `baseline`; raises CompareError if their plans differ (unless
    `allow_plan_change`)."""
    changes = plan_changes(baseline, candidate)
    if changes and not allow_plan_change:
        listed = "; ".join(f"{key} {b!r} vs {c!r}" for key, (b, c) in changes.items())
        raise CompareError(
            f"the runs' plans differ: {listed} (compare anyway with allow_plan_change)"
        )
    judge = _Judge(alpha=alpha, min_effect=min_effect, min_points=min_points)
    rows = _interval_rows(baseline, candidate, judge) + _business_rows(baseline, candidate, judge)
    rows = _adjusted(rows, alpha)
    return Comparison(
        baseline_id=baseline.run.id,
        candidate_id=candidate.run.id,
        alpha=alpha,
        min_effect=min_effect,
        min_points=min_points,
        rows=rows,
        plan_changes=changes,
        notes=_notes(baseline, candidate, changes),
        baseline_seed=baseline.run.seed,
        candidate_seed=candidate.run.seed,
    )


def _adjusted(rows: list[Row], alpha: float) -> list[Row]:
    """Each row's p adjusted for all the tests of the comparison (Benjamini-Hochberg), and its
    verdict kept only if the adjusted q is below alpha. A comparison runs dozens of tests; at
    alpha 0.05 each, two runs of one plan would show a `worse` or a `better` somewhere most
    times (measured: 1 to 3 of ~30 rows between two 40-second runs of one schedule). Adjusted,
    the chance of any false verdict between two runs of one plan is at most alpha."""
    tested = [i for i, row in enumerate(rows) if row.p_value is not None]
    if not tested:
        return rows
    qs = false_discovery_control([rows[i].p_value for i in tested], method="bh")
    adjusted = list(rows)
    for index, q in zip(tested, qs, strict=True):
        row = rows[index]
        q_value = float(q)
        if row.verdict != "~" and q_value >= alpha:
            note = _join(
                f"p < {alpha:g} alone, not once the {len(tested)} tests are counted", row.note
            )
            adjusted[index] = replace(row, q_value=q_value, verdict="~", note=note)
        else:
            adjusted[index] = replace(row, q_value=q_value)
    return adjusted


def plan_changes(baseline: Results, candidate: Results) -> dict[str, tuple[Any, Any]]:
    """The plan keys whose values differ, with both values."""
    b_plan, c_plan = baseline.plan, candidate.plan
    return {
        key: (getattr(b_plan, key), getattr(c_plan, key))
        for key in PLAN_KEYS
        if getattr(b_plan, key) != getattr(c_plan, key)
    }


def _notes(baseline: Results, candidate: Results, changes: dict[str, tuple[Any, Any]]) -> list[str]:
    notes = []
    if changes:
        notes.append("plans differ (allowed): " + ", ".join(changes))
    for role, results in (("baseline", baseline), ("candidate", candidate)):
        if results.run.valid is False:
            notes.append(
                f"the {role} run is invalid: the generator lagged, its figures are suspect"
            )
        if not results.audit.ok:
            notes.append(f"the {role} run failed its audit")
    b_seed, c_seed = baseline.run.seed, candidate.run.seed
    if b_seed == c_seed:
        # Same arrivals on both sides: the test then sees only the target's own noise.
        notes.append(f"both runs used seed {b_seed}: the noise of the arrivals is not sampled")
    return notes


@dataclass(frozen=True)
class _Judge:
    alpha: float
    min_effect: float
    min_points: float

    def verdict(
        self,
        p_value: float | None,
        baseline: float | None,
        candidate: float | None,
        change: float | None,
        *,
        higher_is_better: bool,
        change_unit: ChangeUnit = "relative",
    ) -> Verdict:
        if p_value is None or p_value >= self.alpha or baseline is None or candidate is None:
            return "~"
        threshold = self.min_points if change_unit == "points" else self.min_effect
        # change None: from zero to something, an effect as large as there is.
        if change is not None and abs(change) < threshold:
            return "~"
        if candidate == baseline:
            return "~"
        return "better" if (candidate > baseline) == higher_is_better else "worse"


# -- per-interval samples ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    """One group in one kept interval."""

    count: int
    failures: int
    seconds: float
    latency: dict[str, float]


@dataclass(frozen=True)
class _Series:
    slots: dict[str, list[_Slot]]  # group -> one slot per kept interval
    group_failures: bool  # the file has per-group failure counts (`failures` per interval)


def _duration(results: Results) -> float:
    for seconds in (results.run.real_seconds, results.plan.real_seconds):
        if seconds:
            return seconds
    return max((i.t + i.seconds for i in results.timeseries), default=0.0)


def kept_intervals(results: Results) -> list[Interval]:
    """The intervals that are samples: from 10% of the run to its end."""
    duration = _duration(results)
    warm_up = WARMUP_SHARE * duration
    return [i for i in results.timeseries if warm_up <= i.t < duration]


def _latency(figures: Percentiles | IntervalGroup) -> dict[str, float]:
    return {p: float(getattr(figures, p)) for p in LATENCY_PERCENTILES}


def _series(results: Results, groups: list[str]) -> _Series:
    slots: dict[str, list[_Slot]] = {group: [] for group in [ALL, *groups]}
    for interval in kept_intervals(results):
        failures = interval.failures or {}
        for group in groups:
            stats = interval.groups.get(group)
            slots[group].append(
                _Slot(
                    count=0 if stats is None else stats.count,
                    failures=failures.get(group, 0),
                    seconds=interval.seconds,
                    latency={} if stats is None else _latency(stats),
                )
            )
        # `errors` (by kind) counts every failed request of the interval, in old files too.
        total_failures = (
            sum(failures.values())
            if interval.failures is not None
            else sum(interval.errors.values())
        )
        slots[ALL].append(
            _Slot(
                count=sum(s.count for s in interval.groups.values()),
                failures=total_failures,
                seconds=interval.seconds,
                latency=_latency(interval.latency_ms),
            )
        )
    has_failures = any(i.failures is not None for i in results.timeseries)
    return _Series(slots=slots, group_failures=has_failures)


def _groups(results: Results) -> set[str]:
    found = set(results.groups)
    for interval in results.timeseries:
        found.update(interval.groups)
    found.discard(ALL)
    return found


def _interval_rows(baseline: Results, candidate: Results, judge: _Judge) -> list[Row]:
    groups = sorted(_groups(baseline) | _groups(candidate))
    b_series, c_series = _series(baseline, groups), _series(candidate, groups)
    rows: list[Row] = []
    for group in [ALL, *groups]:
        b_slots, c_slots = b_series.slots[group], c_series.slots[group]
        b_busy = [s for s in b_slots if s.count >= MIN_COUNT]
        c_busy = [s for s in c_slots if s.count >= MIN_COUNT]
        for percentile in LATENCY_PERCENTILES:
            enough = MIN_COUNT_FOR[percentile]
            rows.append(
                _sample_row(
                    f"latency {percentile}",
                    group,
                    [s.latency[percentile] for s in b_slots if _holds(s, percentile, enough)],
                    [s.latency[percentile] for s in c_slots if _holds(s, percentile, enough)],
                    judge,
                    unit="ms",
                    higher_is_better=False,
                )
            )
        missing = [
            role
            for role, series in (("baseline", b_series), ("candidate", c_series))
            if not series.group_failures
        ]
        rows.append(_error_row(group, b_busy, c_busy, judge, missing if group != ALL else []))
        rows.append(
            _sample_row(
                "throughput",
                group,
                [s.count / s.seconds for s in b_slots],
                [s.count / s.seconds for s in c_slots],
                judge,
                unit="rps",
                higher_is_better=True,
                note="follows the offered rate",
            )
        )
    return rows


def _holds(slot: _Slot, percentile: str, requests: int) -> bool:
    return slot.count >= requests and percentile in slot.latency


def _sample_row(
    metric: str,
    group: str,
    baseline: list[float],
    candidate: list[float],
    judge: _Judge,
    *,
    unit: str,
    higher_is_better: bool,
    note: str = "",
) -> Row:
    b_value = median(baseline) if baseline else None
    c_value = median(candidate) if candidate else None
    change = _relative(b_value, c_value)
    p_value = None
    if len(baseline) < MIN_SAMPLES or len(candidate) < MIN_SAMPLES:
        note = _join("too few intervals", note)
    else:
        p_value = mann_whitney_p(baseline, candidate)
    verdict = judge.verdict(p_value, b_value, c_value, change, higher_is_better=higher_is_better)
    return Row(
        metric=metric,
        group=group,
        baseline=b_value,
        candidate=c_value,
        change=change,
        p_value=p_value,
        verdict=verdict,
        note=note,
        unit=unit,
        n_baseline=len(baseline),
        n_candidate=len(candidate),
    )


def _error_row(
    group: str, baseline: list[_Slot], candidate: list[_Slot], judge: _Judge, missing: list[str]
) -> Row:
    b_rate, c_rate = _pooled(baseline), _pooled(candidate)
    p_value = None
    if missing:
        # A file without per-group failures would read as "no failures": not a sample of zero.
        b_rate = c_rate = None
        note = "no per-group failures in the " + " and ".join(missing) + " results"
    elif len(baseline) < MIN_SAMPLES or len(candidate) < MIN_SAMPLES:
        note = "too few intervals"
    elif b_rate == 0 and c_rate == 0:
        note = "no failures in either run"
    else:
        p_value = mann_whitney_p(
            [s.failures / s.count for s in baseline], [s.failures / s.count for s in candidate]
        )
        note = "none in the baseline" if b_rate == 0 else ""
    change = _relative(b_rate, c_rate)
    return Row(
        metric="error rate",
        group=group,
        baseline=b_rate,
        candidate=c_rate,
        change=change,
        p_value=p_value,
        verdict=judge.verdict(p_value, b_rate, c_rate, change, higher_is_better=False),
        note=note,
        unit="share",
        n_baseline=len(baseline),
        n_candidate=len(candidate),
    )


def _pooled(slots: list[_Slot]) -> float | None:
    requests = sum(s.count for s in slots)
    return sum(s.failures for s in slots) / requests if requests else None


# -- whole-run business figures ----------------------------------------------------------------


def _business_rows(baseline: Results, candidate: Results, judge: _Judge) -> list[Row]:
    b_biz, c_biz = baseline.business, candidate.business
    rows = [
        _share_row(
            "on-time share",
            BUSINESS,
            _share_of(b_biz.on_time_share, b_biz.measured),
            _share_of(c_biz.on_time_share, c_biz.measured),
            judge,
            higher_is_better=True,
        )
    ]
    for percentile in ("p50", "p95"):
        rows.append(_business_latency_row(percentile, b_biz, c_biz, judge))
    b_pay, c_pay = baseline.payments, candidate.payments
    rows.append(
        _share_row(
            "payments confirmed",
            BUSINESS,
            _share_of(b_pay.confirmed / b_pay.created if b_pay.created else None, b_pay.created),
            _share_of(c_pay.confirmed / c_pay.created if c_pay.created else None, c_pay.created),
            judge,
            higher_is_better=True,
        )
    )
    b_sync, c_sync = baseline.sync, candidate.sync
    rows.append(
        _share_row(
            "sync refused",
            BUSINESS,
            _share_of(b_sync.refused / b_sync.items if b_sync.items else None, b_sync.items),
            _share_of(c_sync.refused / c_sync.items if c_sync.items else None, c_sync.items),
            judge,
            higher_is_better=False,
        )
    )
    return rows


def _share_of(share: float | None, n: int) -> tuple[float, int] | None:
    if share is None or not n:
        return None
    return share, n


def _share_row(
    metric: str,
    group: str,
    baseline: tuple[float, int] | None,
    candidate: tuple[float, int] | None,
    judge: _Judge,
    *,
    higher_is_better: bool,
) -> Row:
    b_share, n_b = baseline if baseline else (None, 0)
    c_share, n_c = candidate if candidate else (None, 0)
    change = p_value = None
    note = ""
    if b_share is None or c_share is None:
        note = "no count in " + ("either run" if b_share is None and c_share is None else "one run")
    else:
        change = c_share - b_share
        p_value = two_proportion_p(b_share, n_b, c_share, n_c)
    verdict = judge.verdict(
        p_value, b_share, c_share, change, higher_is_better=higher_is_better, change_unit="points"
    )
    return Row(
        metric=metric,
        group=group,
        baseline=b_share,
        candidate=c_share,
        change=change,
        p_value=p_value,
        verdict=verdict,
        note=note,
        unit="share",
        change_unit="points",
        n_baseline=n_b,
        n_candidate=n_c,
    )


def _business_latency_row(percentile: str, b_biz: Business, c_biz: Business, judge: _Judge) -> Row:
    b_value = float(getattr(b_biz.latency_working_hours, percentile))
    c_value = float(getattr(c_biz.latency_working_hours, percentile))
    b_samples = b_biz.samples.latency_working_hours if b_biz.samples else []
    c_samples = c_biz.samples.latency_working_hours if c_biz.samples else []
    p_value = None
    if not (b_samples and c_samples):
        note = "no per-dossier samples: informational"
    elif len(b_samples) < MIN_SAMPLES or len(c_samples) < MIN_SAMPLES:
        note = "too few dossiers"
    else:
        # A test of the whole distribution's shift; the effect is this percentile's change.
        p_value = mann_whitney_p(b_samples, c_samples)
        note = ""
    change = _relative(b_value, c_value)
    return Row(
        metric=f"business latency {percentile}",
        group=BUSINESS,
        baseline=b_value,
        candidate=c_value,
        change=change,
        p_value=p_value,
        verdict=judge.verdict(p_value, b_value, c_value, change, higher_is_better=False),
        note=note,
        unit="h",
        n_baseline=len(b_samples),
        n_candidate=len(c_samples),
    )


# -- statistics --------------------------------------------------------------------------------


def mann_whitney_p(baseline: list[float], candidate: list[float]) -> float:
    """Two-sided Mann-Whitney U p-value (exact for small untied samples, else the normal
    approximation with tie correction, as scipy chooses)."""
    if len(set(baseline) | set(candidate)) == 1:
        return 1.0  # every value tied: nothing to tell apart (scipy agrees, but not on every path)
    p_value = float(mannwhitneyu(baseline, candidate, alternative="two-sided").pvalue)
    return 1.0 if math.isnan(p_value) else p_value


def two_proportion_p(p1: float, n1: int, p2: float, n2: int) -> float:
    """Two-sided p of a pooled two-proportion z-test: is share p2 (of n2) unlike p1 (of n1)?"""
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if spread == 0:
        return 1.0  # both shares 0 or both 1
    return float(2 * norm.sf(abs(p2 - p1) / spread))


def _relative(baseline: float | None, candidate: float | None) -> float | None:
    if baseline is None or candidate is None:
        return None
    if baseline == 0:
        return 0.0 if candidate == 0 else None
    return candidate / baseline - 1


# -- text --------------------------------------------------------------------------------------


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _value_text(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "share":
        # Error rates are small: two decimals of a percent, where a share near 90% needs one.
        return f"{value * 100:.2f}%" if value < 0.1 else f"{value * 100:.1f}%"
    return f"{_number(value)} {unit}"


def _change_text(row: Row) -> str:
    if row.change is None:
        growing = row.baseline == 0 and row.candidate is not None and row.candidate > 0
        return "+inf" if growing else ""
    if row.change_unit == "points":
        return f"{row.change * 100:+.1f} pt"
    return f"{row.change * 100:+.1f}%"
