"""results.json (the stable format other tools read, `portalsim.results/1`), the ledger beside
it, the verdict of a run and the summary a tester reads in ten seconds."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtest.distortion import chain_line
from loadtest.headroom import headroom_line

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


def verdict_of_results(results: dict[str, Any]) -> Verdict:
    """The verdict from results.json alone: the harness's at the end of a run, and the
    report's when `portalsim report` rebuilds it."""
    arrivals, harness = results["arrivals"], results["harness"]
    intended, late = arrivals["intended"], arrivals["late"]
    thresholds = results.get("thresholds") or {"rules": []}
    steps = results.get("steps")
    lag_ok = intended > 0 and late <= arrivals["budget_share"] * intended
    target = results.get("target") or {"answering": True}  # absent before the probes existed
    chain = results.get("chain") or {"within_budget": None}  # absent before issue 20
    if steps is not None:  # a step run is valid when it kept to its schedule up to the knee
        lag_ok = steps["kept_to_schedule"]
    return Verdict(
        lag_ok=lag_ok,
        audit_ok=results["audit"]["ok"],
        crashes=harness["crashes"],
        late=late,
        intended=intended,
        budget_ms=arrivals["budget_ms"],
        pools_exhausted=arrivals.get("pools_exhausted") or {},
        cpu_warnings=harness["generator_cpu_warnings"],
        broken=[r["line"] for r in thresholds["rules"] if r["status"] == "broken"],
        target_failed=(
            None
            if target["answering"]
            else f"the portal stopped answering at {target['stopped_answering_at_s']:.0f} s: "
            f"{target['why']}"
        ),
        audit_not_performed=results["audit"].get("not_performed"),
        ended_at_s=results["run"]["real_seconds"],
        chain_past_budget=chain_line(chain) if chain["within_budget"] is False else None,
    )


def write_results(out: Path, results: dict[str, Any], ledger: dict[str, Any]) -> Path:
    folder = out / str(results["run"]["id"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8"
    )
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


def summary_lines(results: dict[str, Any], folder: Path) -> list[str]:
    run, plan, arrivals = results["run"], results["plan"], results["arrivals"]
    business, audit = results["business"], results["audit"]
    achieved = sum(r["count"] for r in results["requests"].values()) / max(run["real_seconds"], 1)
    failures = sum(r["failures"] for r in results["requests"].values())
    failing = sorted(
        ((r["failures"], name) for name, r in results["requests"].items() if r["failures"]),
        reverse=True,
    )
    lines = [
        "",
        f"portalsim run {run['id']}: scale {run['scale']:g}, speed {run['speed']:g}, "
        f"{run['real_seconds']:g} s real = {plan['simulated_hours']:.1f} simulated hours, "
        f"{plan['agencies']} agencies, {run['workers']} worker(s)",
        f"  rate      offered {plan['total_rps']:.1f} req/s at the busiest hour (plan); "
        f"achieved {achieved:.1f} req/s on average; {failures} failed",
        f"  arrivals  {arrivals['started']} started of {arrivals['intended']}, "
        f"{arrivals['late']} late (> {arrivals['budget_ms']:g} ms), max lag "
        f"{ms(arrivals['max_lag_ms'])} ms",
        "  latency from the intended start, ms:   p50      p99     count",
    ]
    room = headroom_line(results.get("headroom"))
    if room is not None:
        lines.insert(3, room)
    if failing:
        worst = ", ".join(f"{name} {count}" for count, name in failing[:4])
        lines.insert(3, f"            failed: {worst} (the causes are in locust.log)")
    if arrivals.get("pools_exhausted"):
        busy = ", ".join(f"{actor} {n}x" for actor, n in arrivals["pools_exhausted"].items())
        lines.insert(-1, f"            every user of an actor was busy at times: {busy}")
    for group, figures in results["groups"].items():
        latency = figures["latency_ms"]
        lines.append(
            f"    {group:<12} {ms(latency['p50']):>22} {ms(latency['p99']):>8} "
            f"{figures['count']:>9,}"
        )
    share = business["on_time_share"]
    hours = business["latency_working_hours"]
    seconds = business["latency_real_s"]
    lines += [
        f"  dossiers  {business['submitted']} submitted, {business['accepted']} accepted, "
        f"{business['finished']} finished, {business['returned']} returned",
        f"  on time   {'n/a' if share is None else f'{share:.1%}'} of {business['measured']} "
        f"finished after the warm-up; {business['overdue']} overdue",
        f"  business latency (submitted -> returned): p50 {hours['p50']:.1f} / p95 "
        f"{hours['p95']:.1f} working hours; p50 {seconds['p50']:.1f} / p95 "
        f"{seconds['p95']:.1f} s real",
        f"  payments  {results['payments']['confirmed']} confirmed of "
        f"{results['payments']['created']} created; sync {results['sync']['accepted']} items "
        f"accepted, {results['sync']['refused']} refused",
    ]
    if "chain" in results:
        lines.append(f"  chain     {chain_line(results['chain'])}")
    if "queueing" in results:
        q = results["queueing"]
        measured = "n/a" if q["measured"] is None else f"{q['measured']:.3f}"
        as_recorded, error = q.get("measured_as_recorded"), q.get("batch_error")
        lines.append(
            f"  queueing  M/M/c predicts {q['predicted']:.3f} on time, measured {measured}"
            + ("" if error is None else f" ± {error:.3f} (95%, batch means)")
            + f" (n = {q['n']}, rho = {q['utilisation']:.2f})"
            + ("" if as_recorded is None else f"; {as_recorded:.3f} by the recorded instants")
        )
    target = results.get("target") or {}
    if target.get("stalls"):
        stalls = ", ".join(f"{seconds:g} s from {start:g} s" for start, seconds in target["stalls"])
        lines.append(f"  target    did not answer its health probe for {stalls}")
    if target and not target["answering"]:
        lines.append(
            f"  target    stopped answering at {target['stopped_answering_at_s']:.0f} s: "
            f"{target['why']}"
        )
    verdict = "passed" if audit["ok"] else "FAILED"
    if audit.get("not_performed"):
        lines.append(f"  audit     not performed: {audit['not_performed']}")
    else:
        lines.append(
            f"  audit     {verdict}: {audit['checked']} dossiers checked; lost "
            f"{len(audit['lost'])}, doubled {len(audit['duplicated'])}, mismatched "
            f"{len(audit['mismatched'])}"
            + (
                f"; indicator counts cross-checked for {audit['indicators_checked']} agencies"
                if audit.get("indicators_checked")
                else ""
            )
        )
    for kind in ("lost", "duplicated", "mismatched"):
        for item in audit[kind][:10]:
            lines.append(f"    {kind}: {item}")
    harness = results["harness"]
    cpu = harness.get("generator_cpu_percent") or {}
    peak = f" (p50 {cpu['p50']:.0f}%, max {cpu['max']:.0f}% of a core)" if cpu.get("max") else ""
    lines.append(
        "  generator "
        + (
            "CPU stayed below Locust's 90% warning: the target, not the harness, was measured"
            if not harness["generator_cpu_warnings"]
            else "CPU passed 90%: the figures include the generator's own delay; use --processes"
        )
        + peak
    )
    steps = results.get("steps")
    if steps:
        knee = steps["knee"]
        judged = ", ".join(
            f"{s['level']:g}x {'met' if s['met'] else 'broken'}" for s in steps["judged"]
        )
        lines.append(f"  steps     {judged}")
        if knee["rps"] is None:
            lines.append("  knee      none: the first step broke the SLO (start lower)")
        else:
            lines.append(
                f"  knee      {knee['rps']:.1f} requests/s = "
                f"{knee['multiple_of_national_peak']:g}x the national peak "
                f"({knee['national_peak_rps']:.1f}/s)"
                + ("" if knee["saturated"] else "; no step broke the SLO: at least this")
            )
    stopped = results["run"].get("stopped")
    if stopped:
        lines.append(f"  stopped   after {results['run']['real_seconds']:.0f} s: {stopped['why']}")
    rules = (results.get("thresholds") or {}).get("rules", [])
    if rules:
        broken = [r for r in rules if r["status"] == "broken"]
        lines.append(
            f"  thresholds {len(rules) - len(broken)} of {len(rules)} met: "
            + ", ".join(r["rule"] for r in rules)
        )
        lines += [f"    {r['line']}" for r in broken]
    lines.append(f"  results   {folder / 'results.json'}")
    lines.append(f"  report    {folder / 'report.html'}")
    return lines
