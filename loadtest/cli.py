"""The load harness's commands: `portalsim run`, `staffing`, `report` and `compare`, mounted
beside the portal's by the `portalsim` entry point (portalsim/cli.py).

Every command pays for what this module imports, and so does every worker of `portalsim serve
--workers N` (it re-imports the entry point): the module level holds only the standard library,
Typer and Rich's console; each command imports the harness, Locust, NumPy or httpx when it runs.
A mistake someone can fix ends in one line on stderr and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="The load harness: runs, staffing, reports and comparisons.")
console = Console(stderr=True)


# The options `run` and `staffing` share: the same workload, scaled the same way.
WorkloadFile = Annotated[Path, typer.Option(help="the workload file", dir_okay=False)]
DEFAULT_WORKLOAD_FILE = Path("loadtest/workload.toml")
Scale = Annotated[
    float | None, typer.Option(min=1e-6, help="x the national volumes (default: workload's)")
]


@app.command()
def run(
    workload: WorkloadFile = DEFAULT_WORKLOAD_FILE,
    scale: Scale = None,
    speed: Annotated[
        float | None, typer.Option(min=1e-6, help="simulated seconds per real second")
    ] = None,
    duration: Annotated[str | None, typer.Option(help="real run time, e.g. 90s, 10m")] = None,
    seed: Annotated[int | None, typer.Option(help="the schedule's seed")] = None,
    out: Annotated[Path, typer.Option(help="results go to OUT/RUN_ID/")] = Path("reports"),
    processes: Annotated[int, typer.Option(min=1, help="Locust worker processes")] = 1,
    target: Annotated[
        str | None, typer.Option(help="drive this portal instead of starting one")
    ] = None,
    gateway: Annotated[str | None, typer.Option(help="the target's payment gateway")] = None,
    database_url: Annotated[
        str | None, typer.Option(help="the database of the portal it starts (default: SQLite)")
    ] = None,
    plan: Annotated[
        bool, typer.Option("--plan", help="print the resolved per-actor rates and exit")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="run a plan above the ceiling")] = False,
    run_id: Annotated[str, typer.Option(help="the run's folder name (default: its start)")] = "",
    shape: Annotated[
        str | None,
        typer.Option(help="diurnal (default), surge, soak or step; NAME:key=value,... overrides"),
    ] = None,
    thresholds: Annotated[
        Path | None, typer.Option(help="a TOML file with a [thresholds] table", dir_okay=False)
    ] = None,
    staffing: Annotated[
        Path | None,
        typer.Option(
            help="officers per agency: the staffing.json `portalsim staffing` wrote, or a TOML "
            "[officers] table; the report shows each agency's predicted share beside the measured",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Run a load experiment end to end: portal and gateway on loopback, every actor driven by
    Locust, the audit, results.json, report.html, report.md and a summary. Exit 0 only for a
    valid, audited run that met its thresholds."""
    import httpx

    from loadtest.drive.run import RunError, RunOptions, ThresholdError, WorkloadError
    from loadtest.drive.run import plan as resolve_plan
    from loadtest.drive.run import run as run_experiment

    options = RunOptions(
        workload=workload,
        scale=scale,
        speed=speed,
        duration=duration,
        seed=seed,
        out=out.resolve(),
        processes=processes,
        target=target,
        gateway=gateway,
        database_url=database_url,
        force=force,
        run_id=run_id,
        shape=shape,
        thresholds=thresholds,
        staffing=staffing,
    )
    try:
        if plan:
            typer.echo(json.dumps(resolve_plan(options).model_dump(mode="json"), indent=2))
            return
        code = run_experiment(options, typer.echo)
    except (RunError, WorkloadError, ThresholdError, httpx.HTTPError) as exc:
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


@app.command()
def staffing(
    workload: WorkloadFile = DEFAULT_WORKLOAD_FILE,
    scale: Scale = None,
    target: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="the on-time share to reach, as the portal classifies"),
    ] = 0.95,
    agencies: Annotated[
        int | None,
        typer.Option(
            min=0, help="agencies in scope, sampled as a run samples them; 0 = every agency"
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="the scope's and the draws' seed")] = None,
    out: Annotated[
        Path, typer.Option(help="writes staffing.json, staffing.md, staffing.svg here")
    ] = Path("reports/staffing"),
) -> None:
    """For every agency in scope, the fewest officers whose predicted on-time share reaches the
    target, and the share at today's staffing: an offline simulation of each back office (no
    portal needed), checked against Erlang C where M/M/c holds."""
    from app.core.config import get_settings
    from loadtest.judge.report.staffing import level_lines, write_staffing
    from loadtest.model.staffing import plan_staffing
    from loadtest.model.workload import WorkloadError

    try:
        found = plan_staffing(
            workload,
            scale=scale,
            seed=seed,
            agencies=agencies,
            target=target,
            settings=get_settings(),
        )
        written = write_staffing(out, found)
    except (WorkloadError, OSError) as exc:
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"{len(found.agencies)} agencies at scale {found.scale:g}, target "
        f"{found.target:.0%}, in {found.seconds:g} s"
    )
    for line in level_lines(found):
        typer.echo(line)
    for path in written:
        typer.echo(str(path))


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="a run's folder (holding results.json)")],
    compare_with: Annotated[
        Path | None,
        typer.Option("--compare", help="embed a comparison against this baseline run's folder"),
    ] = None,
    allow_plan_change: Annotated[
        bool, typer.Option("--allow-plan-change", help="compare runs whose plans differ")
    ] = False,
) -> None:
    """Rebuild report.html and report.md of a run from its results.json."""
    from loadtest.judge.compare import CompareError, compare_runs
    from loadtest.judge.report import ReportError, read_results, write_reports

    try:
        results = read_results(run_dir)
        comparison = None
        if compare_with is not None:
            baseline = read_results(compare_with)
            comparison = compare_runs(baseline, results, allow_plan_change=allow_plan_change)
        written = write_reports(run_dir, results, comparison)
    except (ReportError, CompareError, OSError) as exc:
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    for path in written:
        typer.echo(str(path))


@app.command()
def compare(
    baseline: Annotated[Path, typer.Argument(help="the baseline run's folder")],
    candidate: Annotated[Path, typer.Argument(help="the candidate run's folder")],
    fail_on_regression: Annotated[
        bool, typer.Option("--fail-on-regression", help="exit 1 when any row is worse")
    ] = False,
    allow_plan_change: Annotated[
        bool, typer.Option("--allow-plan-change", help="compare runs whose plans differ")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the comparison as JSON")] = False,
) -> None:
    """Compare two runs of one plan: per route group and for the business figures, the change
    and a Mann-Whitney verdict on per-interval samples (better, worse, or ~ for no significant
    change)."""
    from loadtest.judge.compare import CompareError, compare_runs
    from loadtest.judge.report import ReportError, read_results

    try:
        comparison = compare_runs(
            read_results(baseline), read_results(candidate), allow_plan_change=allow_plan_change
        )
    except (ReportError, CompareError) as exc:
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(comparison.to_json())
    else:
        for line in comparison.lines():
            typer.echo(line)
    if fail_on_regression and comparison.regressions:
        names = ", ".join(f"{r.metric} {r.group}" for r in comparison.regressions)
        typer.echo(f"regression: {names}", err=True)
        raise typer.Exit(1)
