"""What `portalsim staffing` writes beside its JSON: a Markdown table per agency, a summary line
per level, and a chart of the on-time share against officers for the agencies furthest from the
target (report/charts.py); and the table of predicted beside measured shares of a run staffed
with `--staffing`."""

from __future__ import annotations

from pathlib import Path

from loadtest.judge.report.charts import Series, line_chart
from loadtest.model.staffing import AgencyRow, StaffingReport
from loadtest.results_model import Staffing, StaffingAgency

CHARTED = 6  # agencies on the chart: those furthest below the target today
# The report's chart styles (templates/report.html.j2), for the chart as a file of its own.
SVG_STYLE = (
    "<style>.grid{stroke:#eaeef2}.axis{stroke:#8c959f}.tick,.legend,.label{font-size:11px;"
    "fill:#57606a;font-family:sans-serif}.chart-title{font-size:13px;font-weight:600;"
    "font-family:sans-serif}</style>"
)


def _pct(value: float | None, error: float | None = None) -> str:
    if value is None:
        return "–"
    text = f"{value * 100:.1f}%"
    return f"{text} ± {error * 100:.1f}" if error else text


def level_lines(report: StaffingReport) -> list[str]:
    """One line per level: how many agencies miss the target today, and what fixes it."""
    target = report.target
    lines = []
    for level, row in report.levels.items():
        line = (
            f"{level}: {row.missing_target} of {row.agencies} agencies below "
            f"{target:.0%} on time today ({row.officers:,} officers, "
            f"{_pct(row.share)}); {row.officers_recommended:,} officers reach it "
            f"({_pct(row.share_recommended)})"
        )
        if row.unreachable:
            line += f"; {row.unreachable} cannot reach it with any staffing"
        lines.append(line)
    return lines


def furthest(report: StaffingReport, count: int = CHARTED) -> list[AgencyRow]:
    """The agencies furthest below the target at today's staffing (closest above if none is
    below)."""
    return sorted(report.agencies, key=lambda row: row.current.share)[:count]


def staffing_chart(report: StaffingReport) -> str:
    target = report.target
    chosen = furthest(report)
    series = [
        Series(
            f"{row.code} ({row.level}, today {row.officers})",
            [(c, share) for c, share, _ in row.curve],
        )
        for row in chosen
    ]
    xs = [c for row in chosen for c, _, _ in row.curve]
    if xs:
        series.append(Series(f"target {target:.0%}", [(min(xs), target), (max(xs), target)]))
    return line_chart(
        "On-time share by officers / Tỷ lệ đúng hạn theo số cán bộ",
        series,
        x_label="officers / cán bộ",
        y_label="on-time share",
        y_min=None,
        y_max=1.0,
        y_format="%",
    )


def staffing_markdown(report: StaffingReport, chart: str | None = "staffing.svg") -> str:
    target = report.target
    out = [
        f"# Staffing for {target:.0%} on time",
        "",
        f"Workload `{report.workload}`, scale {report.scale:g}, seed {report.seed}; "
        f"{len(report.agencies)} agencies; {report.method}; {report.seconds:g} s.",
        "Shares are the portal's on-time classification (early + on time) of dossiers decided, "
        "± the 95% sampling error of the simulation (batch means).",
        "",
        *(f"- {line}" for line in level_lines(report)),
        "",
    ]
    if chart:
        out += [f"![On-time share by officers]({chart})", ""]
    out += [
        "| agency | level | arrivals / working day | officers today | utilisation | "
        "on time today | officers for target | on time with them | firm |",
        "|---|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for row in sorted(report.agencies, key=lambda r: (r.current.share, r.code)):
        at = row.at_recommended
        out.append(
            f"| {row.code} {row.name} | {row.level} | {row.arrivals_per_day:,.1f} | "
            f"{row.officers:,} | {row.utilisation:.0%} | "
            f"{_pct(row.current.share, row.current.error)} | "
            f"{row.recommended if row.recommended is not None else 'none'} | "
            f"{_pct(at.share, at.error) if at else '–'} | "
            f"{'yes' if row.firm else 'no'} |"
        )
    return "\n".join(out) + "\n"


def write_staffing(folder: Path, report: StaffingReport) -> list[Path]:
    """staffing.json, staffing.md and staffing.svg in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in ("staffing.json", "staffing.md", "staffing.svg")]
    paths[0].write_text(report.to_json() + "\n", encoding="utf-8")
    paths[1].write_text(staffing_markdown(report), encoding="utf-8")
    chart = staffing_chart(report)
    paths[2].write_text(chart.replace(">", ">" + SVG_STYLE, 1), encoding="utf-8")
    return paths


def predicted_beside_measured(section: Staffing) -> list[str]:
    """Markdown lines for a run's `staffing` section (results.json)."""
    out = [
        "## Staffing: predicted beside measured",
        "",
        f"Staffing from `{section.file}`. Predicted: the offline simulation of this run's "
        f"window ({section.replications} replications); tolerance: the 95% sampling error "
        "of one run's share.",
        "",
        "| agency | officers | predicted | measured | n | within |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for row in [*section.agencies, section.overall]:
        officers = row.officers if isinstance(row, StaffingAgency) else ""
        out.append(
            f"| {row.code} | {officers} | "
            f"{_pct(row.predicted, row.tolerance)} | {_pct(row.measured)} | {row.n} | "
            f"{'–' if row.measured is None else ('yes' if row.within else 'no')} |"
        )
    return [*out, ""]
