"""The reports of a run, written beside results.json: `report.html` (one self-contained file
for reviewers: verdict, plan, charts, tables) and `report.md` (a summary that pastes into a
pull request). Both are built from results.json alone, so `portalsim report RUN_DIR` rebuilds
them for any run, optionally with a comparison against a baseline run embedded."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from loadtest.distortion import chain_line
from loadtest.report.figures import all_figures, local_time
from loadtest.report.markdown import render_markdown
from loadtest.results import Verdict, measured, ms, verdict_of_results

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


def change(row: dict[str, Any]) -> str:
    value = row.get("change")
    if value is None:
        return "+inf" if row.get("candidate") and not row.get("baseline") else "n/a"
    if row.get("change_unit") == "points":
        return f"{value * 100:+.1f} pts"
    return f"{value:+.1%}"


def shape_text(plan: dict[str, Any]) -> str:
    shape = dict(plan.get("shape") or {"name": "diurnal"})
    name = shape.pop("name")
    if name == "diurnal":
        return "diurnal: the workload's intra-day, counter and weekly profiles"
    settings = ", ".join(f"{k} {v}" for k, v in shape.items() if k != "slo")
    return f"{name}: {settings}"


def generator_note(results: dict[str, Any]) -> str:
    harness = results["harness"]
    cpu = harness.get("generator_cpu_percent") or {}
    figures = f" (p50 {cpu['p50']:.0f}%, max {cpu['max']:.0f}% of a core)" if cpu.get("max") else ""
    if harness.get("generator_cpu_warnings"):
        return (
            "The generator's CPU passed Locust's 90% warning"
            + figures
            + ": these figures include the generator's own delay; rerun with --processes."
        )
    return (
        "The generator was not the bottleneck: its CPU stayed below Locust's 90% warning"
        + figures
        + f", and {results['arrivals']['late']} of {results['arrivals']['intended']} arrivals "
        "started late. The figures measure the target."
    )


def knee_text(steps: dict[str, Any]) -> str:
    knee = steps["knee"]
    if knee["rps"] is None:
        return "Knee: none: the first step already broke the SLO; start lower (shapes.step.start)."
    multiple = knee["multiple_of_national_peak"]
    times = (
        f" = {multiple:g} × the national peak ({knee['national_peak_rps']:.1f}/s)"
        if multiple
        else ""
    )
    tail = (
        f"; step {knee['first_broken_step']} broke it"
        if knee["saturated"]
        else "; no step broke the SLO, so the knee is at least this (raise the steps)"
    )
    return (
        f"Knee / Điểm gãy: {knee['rps']:.1f} requests/s (step {knee['step']}, level × "
        f"{knee['level']:g}, {knee['offered_arrivals_rps']:.2f} arrivals/s){times}{tail}."
    )


def context(results: dict[str, Any], comparison: dict[str, Any] | None) -> dict[str, Any]:
    verdict: Verdict = verdict_of_results(results)
    thresholds = results.get("thresholds") or {"ok": True, "rules": []}
    rules = thresholds["rules"]
    broken = [r for r in rules if r["status"] == "broken"]
    requests = results["requests"]
    seconds = max(results["run"]["real_seconds"], 1e-9)
    failures_by_group: dict[str, int] = {}
    for entry in requests.values():
        group = entry.get("group", "")
        failures_by_group[group] = failures_by_group.get(group, 0) + entry["failures"]
    queueing = results.get("queueing")
    steps = results.get("steps")
    figures = all_figures(results)
    return {
        **results,
        "all": results.get("all")
        or {"count": 0, "latency_ms": dict.fromkeys(("p50", "p95", "p99", "p999", "max"), 0.0)},
        "figures": _markup(figures),
        "group_rows": [
            {
                "group": group,
                "count": entry["count"],
                "rps": entry["count"] / seconds,
                "failures": failures_by_group.get(group, 0),
                "latency": entry["latency_ms"],
            }
            for group, entry in results["groups"].items()
        ],
        "all_rps": sum(r["count"] for r in requests.values()) / seconds,
        "all_failures": sum(r["failures"] for r in requests.values()),
        "thresholds": thresholds,
        "thresholds_state": "none" if not rules else ("ok" if not broken else "bad"),
        "thresholds_summary": (
            "none set" if not rules else f"{len(rules) - len(broken)} of {len(rules)} met"
        ),
        "reason": verdict.reason,
        "reason_ok": verdict.exit_code == 0,
        "generator_note": generator_note(results),
        "shape_text": shape_text(results["plan"]),
        "lag_share": results["plan"].get("lag_budget_share", 0.01),
        "steps": steps,
        "knee_text": knee_text(steps) if steps else "",
        "kneedle_text": _kneedle_text(steps) if steps else "",
        "soak": results.get("soak"),
        "queueing": queueing,
        "queueing_error": _sampling_error(queueing),
        "staffing": results.get("staffing"),
        "chain_text": chain_line(results["chain"]) if "chain" in results else "",
        "comparison": comparison,
        "ms": ms,
        "local_time": local_time,
        "pct": pct,
        "measured": measured,
        "change": change,
    }


def _kneedle_text(steps: dict[str, Any]) -> str:
    knee = steps["knee"]
    if knee["kneedle_rps"] is None:
        return "finds no bend"
    multiple = knee["kneedle_multiple_of_national_peak"]
    return f"bends at {knee['kneedle_rps']:.1f}/s" + (
        f" ({multiple:g} × national peak)" if multiple else ""
    )


def _sampling_error(queueing: dict[str, Any] | None) -> float:
    if not queueing or not queueing.get("n"):
        return 0.0
    share = queueing["measured"] if queueing["measured"] is not None else queueing["predicted"]
    return 1.96 * math.sqrt(share * (1 - share) / queueing["n"])


def _markup(value: Any) -> Any:
    """The charts are markup this package drew (every text in them escaped): not re-escaped."""
    if isinstance(value, str):
        return Markup(value)
    if isinstance(value, list):
        return [_markup(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_markup(v) for v in value)
    if isinstance(value, dict):
        return {k: _markup(v) for k, v in value.items()}
    return value


def render_html(results: dict[str, Any], comparison: dict[str, Any] | None = None) -> str:
    return _ENVIRONMENT.get_template("report.html.j2").render(context(results, comparison))


def write_reports(
    folder: Path, results: dict[str, Any], comparison: dict[str, Any] | None = None
) -> list[Path]:
    html, markdown = folder / "report.html", folder / "report.md"
    html.write_text(render_html(results, comparison), encoding="utf-8")
    markdown.write_text(render_markdown(results, comparison), encoding="utf-8")
    return [html, markdown]


def read_results(folder: Path) -> dict[str, Any]:
    path = folder / "results.json" if folder.is_dir() else folder
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"no results.json in {folder}: is it a run's folder?") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != "portalsim.results/1":
        raise ReportError(f"{path} is not a portalsim results file (schema portalsim.results/1)")
    return data
