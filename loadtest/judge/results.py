"""results.json (`portalsim.results/1`, typed in loadtest/results_model.py) and the ledger
beside it, the verdict of a run and the summary a tester reads in ten seconds."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtest.judge.audit import LedgerRecord
from loadtest.judge.distortion import chain_line, queue_line
from loadtest.judge.headroom import headroom_line
from loadtest.results_model import Results, Steps, to_json

EXIT_INVALID, EXIT_AUDIT, EXIT_CRASH, EXIT_THRESHOLDS, EXIT_TARGET = 3, 4, 5, 6, 7


@dataclass(frozen=True)
class Verdict:
    lag_ok: bool
    audit_ok: bool
    crashes: int
    late: int
    intended: int
    budget_ms: float
    pools_exhausted: dict[str, int] = field(default_factory=dict)
    cpu_warnings: int = 0
    broken: list[str] = field(default_factory=list)  # thresholds broken, as outcome lines
    target_failed: str | None = None  # "the portal stopped answering at 15 s: ..."
    audit_not_performed: str | None = None
    ended_at_s: float = 0.0
    chain_past_budget: str | None = None  # "the chain added p50 ... (past the budget ...)"

    @property
    def valid(self) -> bool:
        """A run is valid when the generator kept to the schedule, did not crash, and its
        back office's chain kept the simulated time it added within budget."""
        return self.lag_ok and self.crashes == 0 and self.chain_past_budget is None

    @property
    def exit_code(self) -> int:
        if self.crashes:
            return EXIT_CRASH
        if self.target_failed:
            return EXIT_TARGET
        if not self.lag_ok or self.chain_past_budget:
            return EXIT_INVALID
        if not self.audit_ok:
            return EXIT_AUDIT
        return EXIT_THRESHOLDS if self.broken else 0

    @property
    def reason(self) -> str:
        if self.crashes:
            return f"FAILED: the harness crashed {self.crashes} times (see the log above)"
        if self.target_failed:
            return (
                f"FAILED: {self.target_failed}; the run ended at {self.ended_at_s:.0f} s with "
                "what it measured until then, the audit was not performed"
            )
        if not self.lag_ok:
            if self.intended == 0:
                return "INVALID: no arrival fell within the run"
            late = (
                f"INVALID: {self.late} of {self.intended} arrivals started more than "
                f"{self.budget_ms:g} ms late"
            )
            if self.pools_exhausted:
                actors = ", ".join(sorted(self.pools_exhausted))
                return (
                    f"{late}: every {actors} user was busy waiting for the target, so arrivals "
                    "queued in the harness; the figures understate the target's delay"
                )
            if self.cpu_warnings:
                return f"{late}: the generator's CPU was the limit (use --processes)"
            return f"{late}: the generator, not the target, was the limit"
        if self.chain_past_budget:
            return (
                f"INVALID: the back office's chain {self.chain_past_budget}: at this clock speed "
                "the real time of its requests weighs on the business figures (lower --speed)"
            )
        if self.audit_not_performed:
            return f"FAILED: the audit was not performed: {self.audit_not_performed}"
        if not self.audit_ok:
            return "FAILED: the audit found lost, doubled or mismatched dossiers (above)"
        if self.broken:
            rules = "; ".join(line.removeprefix("broken: ") for line in self.broken)
            return f"FAILED: {len(self.broken)} threshold(s) broken: {rules}"
        return "OK: valid run, audit passed"


def verdict_of_results(results: Results) -> Verdict:
    """The verdict from results.json alone: the harness's at the end of a run, and the
    report's when `portalsim report` rebuilds it."""
    arrivals, harness, target = results.arrivals, results.harness, results.target
    lag_ok = arrivals.intended > 0 and arrivals.late <= arrivals.budget_share * arrivals.intended
    steps = results.steps
    if steps is not None and steps.kept_to_schedule is not None:
        lag_ok = steps.kept_to_schedule  # a step run is valid when on schedule up to the knee
    chain = results.chain
    return Verdict(
        lag_ok=lag_ok,
        audit_ok=results.audit.ok,
        crashes=harness.crashes,
        late=arrivals.late,
        intended=arrivals.intended,
        budget_ms=arrivals.budget_ms,
        pools_exhausted=arrivals.pools_exhausted,
        cpu_warnings=harness.generator_cpu_warnings,
        broken=[r.line for r in results.thresholds.rules if r.status == "broken"],
        target_failed=(  # no target section: before the probes existed
            None
            if target is None or target.answering
            else f"the portal stopped answering at {target.stopped_answering_at_s or 0:.0f} s: "
            f"{target.why}"
        ),
        audit_not_performed=results.audit.not_performed,
        ended_at_s=results.run.real_seconds,
        chain_past_budget=(
            chain_line(chain) if chain is not None and chain.within_budget is False else None
        ),
    )


def write_results(out: Path, results: Results, ledger: dict[str, LedgerRecord]) -> Path:
    folder = out / results.run.id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(to_json(results), encoding="utf-8")
    (folder / "ledger.json").write_text(
        json.dumps(ledger, ensure_ascii=False, sort_keys=True), encoding="utf-8"
    )
    return folder


def ms(value: float | None) -> str:
    """Milliseconds as a reader wants them: no decimals past 100."""
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def measured(value: Any) -> str:
    """A measured figure of any kind (count, share, boolean, none)."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def summary_lines(results: Results, folder: Path) -> list[str]:
    """The summary a tester reads in ten seconds."""
    run = results.run
    lines = _head_lines(results)
    for group, figures in results.groups.items():
        latency = figures.latency_ms
        lines.append(
            f"    {group:<12} {ms(latency.p50):>22} {ms(latency.p99):>8} {figures.count:>9,}"
        )
    lines += _business_lines(results)
    lines += _target_and_audit_lines(results)
    lines += _step_lines(results.steps)
    if run.stopped:
        lines.append(f"  stopped   after {run.real_seconds:.0f} s: {run.stopped.why}")
    rules = results.thresholds.rules
    if rules:
        broken = [r for r in rules if r.status == "broken"]
        lines.append(
            f"  thresholds {len(rules) - len(broken)} of {len(rules)} met: "
            + ", ".join(r.rule for r in rules)
        )
        lines += [f"    {r.line}" for r in broken]
    lines.append(f"  results   {folder / 'results.json'}")
    lines.append(f"  report    {folder / 'report.html'}")
    return lines


def _head_lines(results: Results) -> list[str]:
    """The run, its rates, its arrivals, and the latency table's header."""
    run, plan, arrivals, requests = results.run, results.plan, results.arrivals, results.requests
    achieved = sum(r.count for r in requests.values()) / max(run.real_seconds, 1)
    failures = sum(r.failures for r in requests.values())
    failing = sorted(
        ((r.failures, name) for name, r in requests.items() if r.failures), reverse=True
    )
    lines = [
        "",
        f"portalsim run {run.id}: scale {run.scale:g}, speed {run.speed:g}, "
        f"{run.real_seconds:g} s real = {plan.simulated_hours:.1f} simulated hours, "
        f"{plan.agencies} agencies, {run.workers} worker(s)",
        f"  rate      offered {plan.total_rps:.1f} req/s at the busiest hour (plan); "
        f"achieved {achieved:.1f} req/s on average; {failures} failed",
        f"  arrivals  {arrivals.started} started of {arrivals.intended}, "
        f"{arrivals.late} late (> {arrivals.budget_ms:g} ms), max lag "
        f"{ms(arrivals.max_lag_ms)} ms",
        "  latency from the intended start, ms:   p50      p99     count",
    ]
    room = headroom_line(results.headroom)
    if room is not None:
        lines.insert(3, room)
    if failing:
        worst = ", ".join(f"{name} {count}" for count, name in failing[:4])
        lines.insert(3, f"            failed: {worst} (the causes are in locust.log)")
    if arrivals.pools_exhausted:
        busy = ", ".join(f"{actor} {n}x" for actor, n in arrivals.pools_exhausted.items())
        lines.insert(-1, f"            every user of an actor was busy at times: {busy}")
    return lines


def _business_lines(results: Results) -> list[str]:
    """Dossiers, on-time share, business latency, payments, sync, the chain, the queueing."""
    business, payments, sync = results.business, results.payments, results.sync
    share = business.on_time_share
    hours, seconds = business.latency_working_hours, business.latency_real_s
    lines = [
        f"  dossiers  {business.submitted} submitted, {business.accepted} accepted, "
        f"{business.finished} finished, {business.returned} returned",
        f"  on time   {'n/a' if share is None else f'{share:.1%}'} of {business.measured} "
        f"finished after the warm-up; {business.overdue} overdue",
        f"  business latency (submitted -> returned): p50 {hours.p50:.1f} / p95 "
        f"{hours.p95:.1f} working hours; p50 {seconds.p50:.1f} / p95 "
        f"{seconds.p95:.1f} s real",
        f"  payments  {payments.confirmed} confirmed of {payments.created} created; sync "
        f"{sync.accepted} items accepted, {sync.refused} refused",
    ]
    if results.chain is not None:
        lines.append(f"  chain     {chain_line(results.chain)}")
    q = results.queueing
    if q is not None:
        measured = "n/a" if q.measured is None else f"{q.measured:.3f}"
        as_recorded, error = q.measured_as_recorded, q.batch_error
        lines.append(
            f"  queueing  M/M/c predicts {q.predicted:.3f} on time, measured {measured}"
            + ("" if error is None else f" ± {error:.3f} (95%, batch means)")
            + f" (n = {q.n}, rho = {q.utilisation:.2f})"
            + ("" if as_recorded is None else f"; {as_recorded:.3f} by the recorded instants")
        )
        if q.queue is not None:
            lines.append(f"  queue     {queue_line(q.queue)}")
    return lines


def _target_and_audit_lines(results: Results) -> list[str]:
    """The target's stalls, the audit, and the generator's CPU."""
    lines = []
    target, audit, harness = results.target, results.audit, results.harness
    if target is not None and target.stalls:
        stalls = ", ".join(f"{seconds:g} s from {start:g} s" for start, seconds in target.stalls)
        lines.append(f"  target    did not answer its health probe for {stalls}")
    if target is not None and not target.answering:
        lines.append(
            f"  target    stopped answering at {target.stopped_answering_at_s or 0:.0f} s: "
            f"{target.why}"
        )
    verdict = "passed" if audit.ok else "FAILED"
    if audit.not_performed:
        lines.append(f"  audit     not performed: {audit.not_performed}")
    else:
        lines.append(
            f"  audit     {verdict}: {audit.checked} dossiers checked; lost "
            f"{len(audit.lost)}, doubled {len(audit.duplicated)}, mismatched "
            f"{len(audit.mismatched)}"
            + (
                f"; indicator counts cross-checked for {audit.indicators_checked} agencies"
                if audit.indicators_checked
                else ""
            )
        )
    for kind, items in (
        ("lost", audit.lost),
        ("duplicated", audit.duplicated),
        ("mismatched", audit.mismatched),
    ):
        for item in items[:10]:
            lines.append(f"    {kind}: {item}")
    cpu = harness.generator_cpu_percent
    peak = f" (p50 {cpu.p50:.0f}%, max {cpu.max:.0f}% of a core)" if cpu.max else ""
    lines.append(
        "  generator "
        + (
            "CPU stayed below Locust's 90% warning: the target, not the harness, was measured"
            if not harness.generator_cpu_warnings
            else "CPU passed 90%: the figures include the generator's own delay; use --processes"
        )
        + peak
    )
    return lines


def _step_lines(steps: Steps | None) -> list[str]:
    if steps is None:
        return []
    knee = steps.knee
    judged = ", ".join(f"{s.level:g}x {'met' if s.met else 'broken'}" for s in steps.judged)
    lines = [f"  steps     {judged}"]
    if knee.rps is None:
        lines.append("  knee      none: the first step broke the SLO (start lower)")
    else:
        lines.append(
            f"  knee      {knee.rps:.1f} requests/s = "
            f"{knee.multiple_of_national_peak or 0:g}x the national peak "
            f"({knee.national_peak_rps:.1f}/s)"
            + ("" if knee.saturated else "; no step broke the SLO: at least this")
        )
    return lines
