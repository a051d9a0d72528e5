"""`portalsim run`: a whole experiment. The options are described and the run planned once,
before anything starts (`prepare`); then the portal and the gateway start on loopback (or
--target names a portal someone else runs) and Locust drives the planned run, which it gets as
the run folder's plan.json, not as options to resolve again (loadtest/drive/processes.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import httpx

from loadtest.drive.description import PlannedRun, clock_speed_of, describe_run, plan_run
from loadtest.drive.processes import PROJECT_ROOT, Echo, RunError, drive, started_servers
from loadtest.model.thresholds import ThresholdError
from loadtest.model.workload import DEFAULT_WORKLOAD, WorkloadError
from loadtest.model.world import fetch_catalogue, generated_catalogue
from loadtest.results_model import PlanSection


@dataclass(frozen=True)
class RunOptions:
    """`portalsim run`'s options as typed: None where the workload decides."""

    workload: Path = DEFAULT_WORKLOAD
    scale: float | None = None
    speed: float | None = None
    duration: str | None = None
    seed: int | None = None
    out: Path = PROJECT_ROOT / "reports"
    processes: int = 1
    target: str | None = None
    gateway: str | None = None
    database_url: str | None = None
    force: bool = False
    run_id: str = ""
    shape: str | None = None
    thresholds: Path | None = None
    staffing: Path | None = None  # officers by agency: `portalsim staffing`'s JSON, or TOML


def prepare(options: RunOptions, *, refuse_above_ceiling: bool = True) -> PlannedRun:
    """The run the options describe, planned on the catalogue of the portal it will drive (the
    target's, or the generated one a portal started on an empty database serves): a mistake in
    the options, or a plan above the ceiling, is refused here, before anything starts."""
    from app.core.config import get_settings

    with httpx.Client(base_url=options.target or "", timeout=30) as target:
        description = describe_run(
            workload=options.workload,
            scale=options.scale,
            speed=options.speed,
            duration=options.duration,
            seed=options.seed,
            shape=options.shape,
            thresholds=options.thresholds,
            staffing=options.staffing,
            out=options.out,
            run_id=options.run_id,
            force=options.force,
            gateway=options.gateway
            or os.environ.get("VNPAY_GATEWAY_URL")
            or "http://127.0.0.1:8001",
            read_clock_speed=(lambda: clock_speed_of(target)) if options.target else None,
        )
        if options.target:
            catalogue = fetch_catalogue(target)
        else:
            settings = get_settings()
            catalogue = generated_catalogue(settings.catalogue_seed, settings.communes_per_province)
    return plan_run(description, catalogue, refuse_above_ceiling=refuse_above_ceiling)


def run(options: RunOptions, echo: Echo) -> int:
    """The experiment; returns the exit code (0: valid and audited)."""
    planned = prepare(options)
    description = planned.description
    folder = description.out / description.run_id
    folder.mkdir(parents=True, exist_ok=True)
    if options.target:
        host = options.target.rstrip("/")
        return drive(planned, host, dict(os.environ), echo, processes=options.processes)
    echo(
        f"starting the portal and the gateway (clock x{description.speed:g} from "
        f"{description.workload.run.start}) ..."
    )
    with started_servers(
        description.workload, description.speed, folder, options.database_url
    ) as servers:
        echo(f"portal {servers.portal}, gateway {servers.gateway}; logs in {folder}")
        return drive(
            planned,
            servers.portal,
            {**os.environ, **servers.environment},
            echo,
            processes=options.processes,
            gateway=servers.gateway,
            portal_pid=servers.portal_pid,
            portal_exit=servers.portal_exit,
            # The portal this run started on a new SQLite file holds this run's dossiers alone.
            fresh_portal=options.database_url is None,
        )


def plan(options: RunOptions) -> PlanSection:
    """The resolved plan, from the target's catalogue or from the catalogue generator: printed,
    so not refused above the ceiling."""
    return prepare(options, refuse_above_ceiling=False).world.require_plan()


__all__ = ["RunError", "RunOptions", "ThresholdError", "WorkloadError", "plan", "run"]
