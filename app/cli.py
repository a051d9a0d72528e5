"""The `portalsim` command."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any

import httpx
import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.accounts.repository import AccountRepository
from app.accounts.service import seed_accounts
from app.catalogue.repository import CatalogueRepository
from app.catalogue.service import CatalogueService
from app.core import migrations
from app.core.clock import clock_from_settings
from app.core.config import Settings, get_settings
from app.core.db import Database
from app.core.faults import FaultSyntaxError
from app.core.security import agency_key, sync_credentials
from app.gateway.faults import parse_faults
from app.main import calendar_from_settings, portal_fault_rules
from app.payments.reconciler import reconcile_once

app = typer.Typer(
    help="portalsim: a mock of Vietnam's National Public Service Portal, and its load harness.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)

NATIONAL_ACCOUNTS = 3_600_000


def _refuse(message: str) -> typer.Exit:
    """Print why a server cannot start, on one line whatever the terminal's width."""
    console.print(message, style="red", markup=False, soft_wrap=True)
    return typer.Exit(2)


def _server_settings() -> Settings:
    """The settings, or one line per problem and exit 2 (rather than a validation traceback)."""
    try:
        return get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]).upper() or "settings"
            console.print(
                f"{where}: {error['msg'].removeprefix('Value error, ')}",
                style="red",
                markup=False,
                soft_wrap=True,
            )
        raise typer.Exit(2) from None


async def _load_catalogue(settings: Settings, *, only_if_empty: bool) -> dict[str, int] | None:
    database = Database.from_settings(settings)
    try:
        async with database.write_sessions() as session, session.begin():
            repository = CatalogueRepository(session)
            if only_if_empty and await repository.get_procedure_count() > 0:
                return None
            return await CatalogueService(repository).load(
                seed=settings.catalogue_seed,
                communes_per_province=settings.communes_per_province,
            )
    finally:
        await database.dispose()


async def _schema_revision(settings: Settings) -> str | None:
    database = Database.from_settings(settings)
    try:
        async with database.read_engine.connect() as connection:
            return await migrations.current_revision(connection)
    finally:
        await database.dispose()


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
    downgrade: Annotated[bool, typer.Option(help="downgrade to REVISION instead")] = False,
) -> None:
    """Bring the database schema to a revision (head by default)."""
    settings = get_settings()
    if downgrade:
        migrations.downgrade(settings, revision)
    else:
        migrations.upgrade(settings, revision)
    console.print(f"[green]schema at {revision}[/green] ({settings.database_url})")


@app.command()
def seed(
    accounts: Annotated[
        int,
        typer.Option(
            min=0, help=f"citizen and business accounts (national: {NATIONAL_ACCOUNTS:,})"
        ),
    ] = 0,
    catalogue: Annotated[
        bool, typer.Option(help="load the provinces, agencies and procedures")
    ] = True,
    batch: Annotated[int, typer.Option(min=1_000, help="accounts per transaction")] = 100_000,
) -> None:
    """Load the deterministic catalogue and accounts. Safe to re-run: nothing is duplicated."""
    settings = get_settings()
    migrations.upgrade(settings)
    if catalogue:
        counts = asyncio.run(_load_catalogue(settings, only_if_empty=False))
        console.print(f"catalogue: {counts}")
    if accounts:
        started = time.perf_counter()
        asyncio.run(_seed_accounts(settings, accounts, batch))
        console.print(f"accounts: {accounts:,} in {time.perf_counter() - started:.1f} s")


async def _seed_accounts(settings: Settings, total: int, batch: int) -> None:
    database = Database.from_settings(settings)
    now = datetime.now(UTC)
    columns = (
        TextColumn("accounts"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("accounts", total=total)
            for start in range(0, total, batch):
                stop = min(start + batch, total)
                # One transaction per batch: an interrupted run keeps what it loaded.
                async with database.write_sessions() as session, session.begin():
                    await seed_accounts(
                        AccountRepository(session),
                        start=start,
                        stop=stop,
                        seed=settings.catalogue_seed,
                        now=now,
                    )
                progress.update(task, completed=stop)
    finally:
        await database.dispose()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: settings' HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: settings' PORT")] = None,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes")] = 1,
    migrate_first: Annotated[
        bool | None,
        typer.Option(
            "--migrate/--no-migrate",
            help="bring the schema to head first (default: yes on SQLite, no on PostgreSQL)",
        ),
    ] = None,
) -> None:
    """Serve the portal; on a fresh database, also create the schema and load the catalogue."""
    settings = _server_settings()
    if settings.portal_faults_enabled:
        try:
            portal_fault_rules(settings)
        except FaultSyntaxError as exc:
            raise _refuse(f"PORTAL_FAULTS: {exc}") from None
    if migrate_first if migrate_first is not None else settings.is_sqlite:
        migrations.upgrade(settings)
    revision = asyncio.run(_schema_revision(settings))
    if revision != migrations.head_revision():
        console.print(
            f"[red]the schema of {settings.database_url} is at {revision or 'nothing'}, "
            f"not at head[/red]: run `portalsim migrate` (or serve with --migrate)"
        )
        raise typer.Exit(1)
    counts = asyncio.run(_load_catalogue(settings, only_if_empty=True))
    if counts:
        console.print(f"loaded the catalogue: {counts}")
    if settings.clock_mode == "accelerated" and settings.clock_anchor is None:
        # Workers are separate processes that read settings from the environment.
        os.environ["CLOCK_ANCHOR"] = datetime.now(UTC).isoformat()
        if settings.clock_start is None:
            os.environ["CLOCK_START"] = os.environ["CLOCK_ANCHOR"]
        get_settings.cache_clear()  # a single worker builds its app in this process
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level="info",
    )


@app.command()
def gateway(
    host: Annotated[str | None, typer.Option(help="default: settings' GATEWAY_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: settings' GATEWAY_PORT")] = None,
) -> None:
    """Serve the mock VNPay payment gateway, creating its ledger (GATEWAY_DATABASE_URL) first."""
    settings = _server_settings()
    try:
        parse_faults(settings.gateway_faults)
    except FaultSyntaxError as exc:
        raise _refuse(f"GATEWAY_FAULTS: {exc}") from None
    uvicorn.run(
        "app.gateway.main:create_gateway_app",
        factory=True,
        host=host or settings.gateway_host,
        port=port or settings.gateway_port,
        log_level="info",
    )


@app.command()
def agencies(
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON array")] = False,
    level: Annotated[str | None, typer.Option(help="central, province or commune")] = None,
    province: Annotated[int | None, typer.Option(help="province code")] = None,
) -> None:
    """List every agency with its code, name, level, back-office key and sync account."""
    settings = get_settings()
    rows = asyncio.run(_agencies(settings, level, province))
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("code", "name", "level", "province", "key", "sync username", "sync password")
    for row in rows:
        table.add_row(
            row["code"],
            row["name"],
            row["level"],
            str(row["province_code"] or ""),
            row["key"],
            row["sync_username"],
            row["sync_password"],
        )
    Console().print(table)


async def _agencies(
    settings: Settings, level: str | None, province: int | None
) -> list[dict[str, Any]]:
    database = Database.from_settings(settings)
    try:
        async with database.read_sessions() as session:
            found = await CatalogueRepository(session).all_agencies(
                level=level, province_code=province
            )
    finally:
        await database.dispose()
    return [
        {
            "code": a.code,
            "name": a.name,
            "level": a.level,
            "province_code": a.province_code,
            "key": agency_key(settings, a.code),
            "sync_username": sync_credentials(settings, a.code)[0],
            "sync_password": sync_credentials(settings, a.code)[1],
        }
        for a in found
    ]


@app.command()
def reconcile() -> None:
    """Settle pending payments from the gateway's ledger (querydr), expire abandoned ones and
    refund payments of dossiers stopped or refused; prints what it found."""
    settings = get_settings()
    report = asyncio.run(_reconcile(settings))
    typer.echo(json.dumps(dict(sorted(report.items())), ensure_ascii=False))


async def _reconcile(settings: Settings) -> dict[str, int]:
    database = Database.from_settings(settings)
    state = SimpleNamespace(
        calendar=calendar_from_settings(settings),
        clock=clock_from_settings(settings),
        document_store=None,
    )
    try:
        async with httpx.AsyncClient(timeout=10.0) as http:
            return dict(await reconcile_once(database, settings, state, http))
    finally:
        await database.dispose()


@app.command()
def run(
    workload: Annotated[Path, typer.Option(help="the workload file", dir_okay=False)] = Path(
        "loadtest/workload.toml"
    ),
    scale: Annotated[
        float | None, typer.Option(min=1e-6, help="x the national volumes (default: workload's)")
    ] = None,
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
) -> None:
    """Run a load experiment end to end: portal and gateway on loopback, every actor driven by
    Locust, the audit, results.json, report.html, report.md and a summary. Exit 0 only for a
    valid, audited run that met its thresholds."""
    from loadtest.run import RunError, RunOptions, ThresholdError, WorkloadError
    from loadtest.run import plan as resolve_plan
    from loadtest.run import run as run_experiment

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
    )
    try:
        if plan:
            typer.echo(json.dumps(resolve_plan(options), indent=2))
            return
        code = run_experiment(options, typer.echo)
    except (RunError, WorkloadError, ThresholdError, httpx.HTTPError) as exc:
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


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
    from loadtest.compare import CompareError, compare_runs
    from loadtest.report import ReportError, read_results, write_reports

    try:
        results = read_results(run_dir)
        comparison = None
        if compare_with is not None:
            baseline = read_results(compare_with)
            comparison = compare_runs(
                baseline, results, allow_plan_change=allow_plan_change
            ).as_dict()
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
    from loadtest.compare import CompareError, compare_runs
    from loadtest.report import ReportError, read_results

    try:
        comparison = compare_runs(
            read_results(baseline), read_results(candidate), allow_plan_change=allow_plan_change
        )
    except (ReportError, CompareError) as exc:
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(comparison.as_dict(), ensure_ascii=False, indent=2))
    else:
        for line in comparison.lines():
            typer.echo(line)
    if fail_on_regression and comparison.regressions:
        names = ", ".join(f"{r.metric} {r.group}" for r in comparison.regressions)
        typer.echo(f"regression: {names}", err=True)
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
