"""The reports of a run, written beside results.json: `report.html` (one self-contained file
for reviewers: verdict, plan, charts, tables) and `report.md` (a summary that pastes into a
pull request). Both are built from results.json alone, so `portalsim report RUN_DIR` rebuilds
them for any run, optionally with a comparison against a baseline run embedded."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from loadtest.judge.compare import Comparison, Row
from loadtest.judge.distortion import chain_line, queue_line
from loadtest.judge.report.figures import all_figures, local_time
from loadtest.judge.report.markdown import render_markdown
from loadtest.judge.results import Verdict, measured, ms, verdict_of_results
from loadtest.results_model import (
    Percentiles,
    PlanSection,
    Queueing,
    Results,
    ResultsError,
    Steps,
    load_results,
)

TEMPLATES = Path(__file__).with_name("templates")
_ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class ReportError(ValueError):
    """A run folder that holds no readable results: one line for the user."""


def pct(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.1%}" if signed else f"{value:.1%}"


def change(row: Row) -> str:
    """A comparison row's change."""
    value = row.change
    if value is None:
        return "+inf" if row.candidate and not row.baseline else "n/a"
    if row.change_unit == "points":
        return f"{value * 100:+.1f} pts"
    return f"{value:+.1%}"


def shape_text(plan: PlanSection) -> str:
    shape = dict(plan.shape or {"name": "diurnal"})
    name = shape.pop("name")
    if name == "diurnal":
        return "diurnal: the workload's intra-day, counter and weekly profiles"
    settings = ", ".join(f"{k} {v}" for k, v in shape.items() if k != "slo")
    return f"{name}: {settings}"


def generator_note(results: Results) -> str:
    harness = results.harness
    cpu = harness.generator_cpu_percent
    figures = f" (p50 {cpu.p50:.0f}%, max {cpu.max:.0f}% of a core)" if cpu.max else ""
    if harness.generator_cpu_warnings:
        return (
            "The generator's CPU passed Locust's 90% warning"
            + figures
            + ": these figures include the generator's own delay; rerun with --processes."
        )
    return (
        "The generator was not the bottleneck: its CPU stayed below Locust's 90% warning"
        + figures
        + f", and {results.arrivals.late} of {results.arrivals.intended} arrivals "
        "started late. The figures measure the target."
    )


def knee_text(steps: Steps) -> str:
    knee = steps.knee
    if knee.rps is None:
        return "Knee: none: the first step already broke the SLO; start lower (shapes.step.start)."
    multiple = knee.multiple_of_national_peak
    times = (
        f" = {multiple:g} × the national peak ({knee.national_peak_rps:.1f}/s)" if multiple else ""
    )
    tail = (
        f"; step {knee.first_broken_step} broke it"
        if knee.saturated
        else "; no step broke the SLO, so the knee is at least this (raise the steps)"
    )
    return (
        f"Knee / Điểm gãy: {knee.rps:.1f} requests/s (step {knee.step}, level × "
        f"{knee.level or 0:g}, {knee.offered_arrivals_rps or 0:.2f} arrivals/s){times}{tail}."
    )


@dataclass(frozen=True)
class GroupRow:
    group: str
    count: int
    rps: float
    failures: int
    latency: Percentiles


def group_rows(results: Results) -> list[GroupRow]:
    """The route groups' table: counts and latency, with the failures of their requests."""
    seconds = max(results.run.real_seconds, 1e-9)
    failures_by_group: dict[str, int] = {}
    for entry in results.requests.values():
        failures_by_group[entry.group] = failures_by_group.get(entry.group, 0) + entry.failures
    return [
        GroupRow(
            group=group,
            count=entry.count,
            rps=entry.count / seconds,
            failures=failures_by_group.get(group, 0),
            latency=entry.latency_ms,
        )
        for group, entry in results.groups.items()
    ]


def context(results: Results, comparison: Comparison | None) -> dict[str, object]:
    """The template's names: every section of results.json, and what the report derives."""
    verdict: Verdict = verdict_of_results(results)
    rules = results.thresholds.rules
    broken = [r for r in rules if r.status == "broken"]
    requests = results.requests
    seconds = max(results.run.real_seconds, 1e-9)
    steps, soak = results.steps, results.soak
    return {
        **{name: getattr(results, name) for name in type(results).model_fields},
        "figures": all_figures(results),
        "group_rows": group_rows(results),
        "all_rps": sum(r.count for r in requests.values()) / seconds,
        "all_failures": sum(r.failures for r in requests.values()),
        "thresholds_state": "none" if not rules else ("ok" if not broken else "bad"),
        "thresholds_summary": (
            "none set" if not rules else f"{len(rules) - len(broken)} of {len(rules)} met"
        ),
        "reason": verdict.reason,
        "reason_ok": verdict.exit_code == 0,
        "generator_note": generator_note(results),
        "shape_text": shape_text(results.plan),
        "lag_share": results.arrivals.budget_share,
        "knee_text": knee_text(steps) if steps else "",
        "kneedle_text": _kneedle_text(steps) if steps else "",
        "soak_drifts": (
            []
            if soak is None
            else [
                ("latency_p50", soak.latency_p50),
                ("latency_p99", soak.latency_p99),
                ("memory", soak.memory),
            ]
        ),
        # Files from before issue 20 have no share by the portal's recorded instants.
        "as_recorded_known": "on_time_share_as_recorded" in results.business.model_fields_set,
        "queueing_error": _sampling_error(results.queueing),
        "chain_text": chain_line(results.chain) if results.chain is not None else "",
        "queue_text": (
            queue_line(results.queueing.queue)
            if results.queueing is not None and results.queueing.queue is not None
            else ""
        ),
        # The template names the comparison's parts as its JSON does (`portalsim.compare/1`).
        "comparison": comparison.document() if comparison is not None else None,
        "ms": ms,
        "local_time": local_time,
        "pct": pct,
        "measured": measured,
        "change": change,
    }


def _kneedle_text(steps: Steps) -> str:
    knee = steps.knee
    if knee.kneedle_rps is None:
        return "finds no bend"
    multiple = knee.kneedle_multiple_of_national_peak
    return f"bends at {knee.kneedle_rps:.1f}/s" + (
        f" ({multiple:g} × national peak)" if multiple else ""
    )


def _sampling_error(queueing: Queueing | None) -> float:
    if queueing is None or not queueing.n:
        return 0.0
    share = queueing.measured if queueing.measured is not None else queueing.predicted
    return 1.96 * math.sqrt(share * (1 - share) / queueing.n)


def render_html(results: Results, comparison: Comparison | None = None) -> str:
    return _ENVIRONMENT.get_template("report.html.j2").render(context(results, comparison))


def write_reports(
    folder: Path, results: Results, comparison: Comparison | None = None
) -> list[Path]:
    html, markdown = folder / "report.html", folder / "report.md"
    html.write_text(render_html(results, comparison), encoding="utf-8")
    markdown.write_text(render_markdown(results, comparison), encoding="utf-8")
    return [html, markdown]


def read_results(folder: Path) -> Results:
    """The results.json of a run's folder (or that file), of this version or an older one."""
    path = folder / "results.json" if folder.is_dir() else folder
    if not path.exists():
        raise ReportError(f"no results.json in {folder}: is it a run's folder?")
    try:
        return load_results(path)
    except ResultsError as error:
        raise ReportError(str(error)) from None
