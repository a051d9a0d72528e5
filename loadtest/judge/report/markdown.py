"""report.md: the run in a few lines and two tables, for a pull request or an issue."""

from __future__ import annotations

from loadtest.judge.compare import Comparison
from loadtest.judge.distortion import chain_line
from loadtest.judge.report.staffing import predicted_beside_measured
from loadtest.judge.results import measured, ms, verdict_of_results
from loadtest.results_model import Results


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def render_markdown(results: Results, comparison: Comparison | None = None) -> str:
    lines = [*_head(results), *_group_table(results)]
    rules = results.thresholds.rules
    if rules:
        lines += ["", "| threshold | measured | status |", "|---|---:|---|"]
        for t in rules:
            lines.append(f"| `{t.rule}` | {measured(t.measured)} | {t.status} |")
    if comparison is not None:
        lines += _comparison(comparison)
    if results.staffing is not None:
        lines += ["", *predicted_beside_measured(results.staffing)]
    lines += ["", "The full report with charts is `report.html` beside this file."]
    return "\n".join(lines) + "\n"


def _head(results: Results) -> list[str]:
    """The verdict, then the run in a few bullets."""
    run, plan, business, audit = results.run, results.plan, results.business, results.audit
    verdict = verdict_of_results(results)
    rules = results.thresholds.rules
    broken = [t for t in rules if t.status == "broken"]
    requests = results.requests
    failures = sum(r.failures for r in requests.values())
    count = sum(r.count for r in requests.values())
    mark = "✅" if verdict.exit_code == 0 else "❌"
    lines = [
        f"### portalsim run `{run.id}`: {mark} {verdict.reason}",
        "",
        f"- **Plan**: `{plan.workload}`, shape {run.shape}, scale "
        f"{run.scale:g}, clock ×{run.speed:g}, {run.real_seconds:.0f} s real = "
        f"{plan.simulated_hours:.1f} simulated hours, {plan.agencies} agencies",
        f"- **Valid**: {'yes' if run.valid else 'no'} ({results.arrivals.late} of "
        f"{results.arrivals.intended} arrivals late); **audit**: "
        + (
            f"not performed ({audit.not_performed}); "
            if audit.not_performed
            else f"{'passed' if audit.ok else 'FAILED'} ({audit.checked} dossiers); "
        )
        + "**thresholds**: "
        + ("none set" if not rules else f"{len(rules) - len(broken)} of {len(rules)} met"),
        f"- **Requests**: {count:,}, {failures:,} failed; offered {plan.total_rps:.1f} req/s at "
        f"the busiest hour",
        f"- **Dossiers**: {business.submitted} submitted, {business.finished} finished; "
        f"on time {_share(business.on_time_share)} of {business.measured}; business "
        f"latency p50 {business.latency_working_hours.p50:.1f} / p95 "
        f"{business.latency_working_hours.p95:.1f} working hours",
    ]
    if results.chain is not None:
        lines.append(f"- **Clock distortion**: the back office's chain {chain_line(results.chain)}")
    steps = results.steps
    if steps:
        knee = steps.knee
        if knee.rps is None:
            lines.append("- **Knee**: none (the first step broke the SLO)")
        else:
            multiple = knee.multiple_of_national_peak
            lines.append(
                f"- **Knee**: {knee.rps:.1f} requests/s (step {knee.step})"
                + (f" = {multiple:g}× the national peak" if multiple else "")
                + ("" if knee.saturated else " (no step broke the SLO: at least this)")
            )
    return lines


def _group_table(results: Results) -> list[str]:
    lines = [
        "",
        "| route group | count | failed | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    failed_by_group: dict[str, int] = {}
    for entry in results.requests.values():
        failed_by_group[entry.group] = failed_by_group.get(entry.group, 0) + entry.failures
    for group, figures in results.groups.items():
        latency = figures.latency_ms
        lines.append(
            f"| {group} | {figures.count:,} | {failed_by_group.get(group, 0)} | "
            f"{ms(latency.p50)} | {ms(latency.p95)} | {ms(latency.p99)} | "
            f"{ms(latency.max)} |"
        )
    return lines


def _comparison(comparison: Comparison) -> list[str]:
    """The significant changes against a baseline."""
    changed = [r for r in comparison.rows if r.verdict != "~"]
    lines = [
        "",
        f"**Compared with `{comparison.baseline_id}`**: "
        + (f"{len(changed)} significant change(s)" if changed else "no significant change"),
    ]
    if changed:
        lines += [
            "",
            "| metric | group | baseline | candidate | verdict |",
            "|---|---|---:|---:|---|",
        ]
        for r in changed:
            lines.append(
                f"| {r.metric} | {r.group} | {measured(r.baseline)} | "
                f"{measured(r.candidate)} | {r.verdict} |"
            )
    return lines
