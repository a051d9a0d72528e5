"""Step-to-saturation: each step judged on the requests it completed, and the knee.

The knee is the request rate of the highest step that met the SLO, counting steps up to the
first broken one (a later step that passes again is not trusted: a saturated target can look
healthy once it sheds load). A rate is requests completed per second in the step, which within
the SLO is what was offered; it is stated against the national peak in requests per second.
Kneedle (Satopää et al. 2011, PyPI `kneed`) is run beside it on the steps' levels (the offered
rate, which rises monotonically, unlike a saturated target's completed rate) vs p99 latency,
where the curve bends upward; the two agree on a clean saturation and the report shows both,
with the SLO's rule as the one the run is judged by."""

from __future__ import annotations

from kneed import KneeLocator  # type: ignore[import-untyped]

from loadtest.metrics import Window
from loadtest.model.thresholds import Rule, Snapshot, evaluate
from loadtest.results_model import GroupFigures, Knee, RequestFigures, Step


def window_results(window: Window) -> Snapshot:
    """A step's figures as the threshold evaluator reads a run's: its groups, `all`, and one
    request entry per group (failures are kept per group in each interval)."""
    seconds = window.to_s - window.from_s
    return Snapshot(
        real_seconds=seconds,
        all=GroupFigures(count=window.count, latency_ms=window.latency_ms),
        groups={
            group: GroupFigures(count=entry.count, latency_ms=entry.latency_ms)
            for group, entry in window.groups.items()
        },
        requests={
            f"{group} (all requests)": RequestFigures(
                group=group,
                count=entry.count,
                failures=entry.failures,
                rps=entry.count / seconds if seconds else 0.0,
                latency_ms=entry.latency_ms,
            )
            for group, entry in window.groups.items()
        },
    )


def judge_step(index: int, level: float, window: Window, slo: list[Rule]) -> Step:
    outcomes = evaluate(slo, window_results(window))
    return Step(
        step=index,
        level=level,
        from_s=window.from_s,
        to_s=window.to_s,
        offered_rps=window.offered_rps,
        achieved_rps=window.achieved_rps,
        offered=window.offered,
        late=window.late,
        count=window.count,
        failures=window.failures,
        error_rate=window.error_rate,
        latency_ms=window.latency_ms,
        met=all(o.ok for o in outcomes),
        broken=[o.line() for o in outcomes if not o.ok],
    )


def kneedle(rates: list[float], p99s: list[float]) -> float | None:
    """The offered rate (or level) where p99 latency bends upward, or None when there is no
    bend (a straight or falling curve, or too few steps)."""
    if len(rates) < 3 or len(set(rates)) < 3 or max(p99s) == min(p99s):
        return None
    locator = KneeLocator(rates, p99s, curve="convex", direction="increasing", S=1.0)
    return None if locator.knee is None else float(locator.knee)


def kept_to_schedule(steps: list[Step], budget_share: float) -> bool:
    """Whether the generator kept to the schedule in every step up to the knee. Past it the
    target is saturated: its users wait on slow answers and arrivals queue in the harness, a
    measurement of the target, not a fault of the run."""
    before = []
    for step in steps:
        if not step.met:
            break
        before.append(step)
    offered = sum(s.offered for s in before)
    late = sum(s.late for s in before)
    return offered > 0 and late <= budget_share * offered


def knee(steps: list[Step], national_peak_rps: float) -> Knee:
    """The knee of a step run, as a rate and as a multiple of the national peak."""
    judged: list[Step] = []
    for step in steps:
        judged.append(step)
        if not step.met:
            break
    met = [s for s in judged if s.met]
    best = max(met, key=lambda s: s.achieved_rps) if met else None
    first_broken = next((s for s in judged if not s.met), None)
    bend_level = kneedle([s.level for s in steps], [s.latency_ms.p99 for s in steps])
    bent = next((s for s in steps if s.level == bend_level), None)
    bend = bent.achieved_rps if bent else None

    def multiple(rate: float | None) -> float | None:
        return round(rate / national_peak_rps, 3) if rate and national_peak_rps else None

    return Knee(
        rule="the request rate of the highest step that met the SLO, up to the first broken one",
        rps=best.achieved_rps if best else None,
        offered_arrivals_rps=best.offered_rps if best else None,
        step=best.step if best else None,
        level=best.level if best else None,
        national_peak_rps=national_peak_rps,
        multiple_of_national_peak=multiple(best.achieved_rps if best else None),
        first_broken_step=first_broken.step if first_broken else None,
        saturated=first_broken is not None,
        kneedle_level=bend_level,
        kneedle_rps=bend,
        kneedle_multiple_of_national_peak=multiple(bend),
    )
