"""One run, described: the options a tester gave (to `portalsim run`, or to plain `locust -f
loadtest/locustfile.py`), the workload file they name and the workload's defaults, resolved and
validated once into one immutable value.

Whoever describes the run also plans it: `portalsim run` before it starts anything (the plan is
what `--plan` prints and what the ceiling is checked against), plain Locust on its master. The
description and the planned world then travel together as `plan.json` (`--run-plan FILE` to
Locust) and in the master's message to its workers, so that no other process reads the workload
file, defaults an option or builds the world again."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import httpx
from pydantic import BaseModel, ConfigDict, Field

from loadtest.model.staffing import read_officers
from loadtest.model.thresholds import ThresholdsSection, load_thresholds_file
from loadtest.model.workload import (
    DiurnalShape,
    SoakShape,
    StepShape,
    SurgeShape,
    Workload,
    WorkloadError,
    load_workload,
)
from loadtest.model.world import Catalogue, Timeline, World, build_world, check_ceiling

AnyShape = Annotated[DiurnalShape | SurgeShape | SoakShape | StepShape, Field(discriminator="name")]


class RunDescription(BaseModel):
    """Every choice of a run, defaults applied: what the harness runs and where it reports."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workload_file: str  # as the tester named it: the plan and results.json say which file
    workload: Workload
    shape: AnyShape
    scale: float
    seed: int
    # The portal's clock speed the run is planned for, checked against the portal's clock
    # when the run is planned (the servers `portalsim run` starts are set to it).
    speed: float
    real_seconds: float
    thresholds: ThresholdsSection
    staffing_file: str | None  # officers by agency (`--staffing`), read into `officers`
    officers: dict[str, int] | None
    out: Path
    run_id: str
    force: bool  # run a plan above the ceiling
    gateway: str
    portal_pid: int | None = None  # a local portal whose memory the run samples
    fresh_portal: bool = False  # the portal holds this run's dossiers alone
    # The servers' held clocks start when this file names the instant (servers the run started).
    clock_anchor_file: Path | None = None


def describe_run(
    *,
    workload: Path | str,
    scale: float | None,
    speed: float | None,
    duration: str | None,
    seed: int | None,
    shape: str | None,
    thresholds: Path | str | None,
    staffing: Path | str | None,
    out: Path | str,
    run_id: str,
    force: bool,
    gateway: str,
    portal_pid: int | None = None,
    fresh_portal: bool = False,
    read_clock_speed: Callable[[], float] | None = None,
) -> RunDescription:
    """The run an option set describes: None (or "") where the tester left the choice to the
    workload or its shape. `read_clock_speed` reads the target's clock when the run drives a
    portal that runs already: its speed is the run's, and a `--speed` that differs is refused
    (a run that starts its servers sets their clock instead). The options are checked before
    the clock is read. Raises WorkloadError (StaffingError), ThresholdError, or an HTTP error
    of the clock's read: one line naming the option or the target."""
    if (scale is not None and scale <= 0) or (speed is not None and speed <= 0):
        raise WorkloadError("--scale and --speed must be positive")
    rules_file = load_thresholds_file(thresholds) if thresholds else None
    officers = read_officers(Path(staffing)) if staffing else None
    loaded = load_workload(workload)
    chosen = loaded.choose_run(shape=shape, speed=speed, duration=duration)
    run_speed = chosen.speed
    if read_clock_speed is not None:
        clock_speed = read_clock_speed()
        if speed is not None and abs(clock_speed - speed) > 1e-9:
            raise WorkloadError(
                f"--speed {speed:g}, but the portal's clock runs at {clock_speed:g}: start the "
                "portal with CLOCK_SPEED (and CLOCK_MODE=accelerated), or drop --speed"
            )
        run_speed = clock_speed
    return RunDescription(
        workload_file=str(workload),
        workload=loaded,
        shape=chosen.shape,
        scale=scale if scale is not None else loaded.run.scale,
        seed=seed if seed is not None else loaded.run.seed,
        speed=run_speed,
        real_seconds=chosen.real_seconds,
        thresholds=rules_file if rules_file is not None else loaded.thresholds,
        staffing_file=str(staffing) if staffing else None,
        officers=officers,
        out=Path(out),
        run_id=run_id or datetime.now().strftime("%Y%m%d-%H%M%S"),
        force=force,
        gateway=gateway.rstrip("/"),
        portal_pid=portal_pid,
        fresh_portal=fresh_portal,
    )


def run_salt() -> str:
    """Five base-36 characters from the instant a run is planned: a rerun against the same
    database neither replays an earlier run's Idempotency-Keys nor reuses its counter codes."""
    value, digits = int(time.time() * 10), []
    for _ in range(5):
        value, digit = divmod(value, 36)
        digits.append("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[digit])
    return "".join(reversed(digits))


def plan_run(
    description: RunDescription,
    catalogue: Catalogue,
    *,
    refuse_above_ceiling: bool = True,
) -> PlannedRun:
    """A described run planned on this catalogue: its world and the world's plan, refused
    above the workload's ceiling (unless --force, or when the plan is only printed). The
    world's time line is the plan's (the run's speed and length); the master sets the real one
    when the run starts."""
    now = time.time()
    workload = description.workload
    world = build_world(
        workload,
        catalogue,
        timeline=Timeline(
            now, workload.run.start.timestamp(), description.speed, now, description.real_seconds
        ),
        scale=description.scale,
        seed=description.seed,
        salt=run_salt(),
        workload_name=description.workload_file,
        shape=description.shape,
        staffing=description.officers,
    )
    planned = PlannedRun(description, world)
    if refuse_above_ceiling:
        check_ceiling(world.require_plan(), force=description.force)
    return planned


def clock_speed_of(client: httpx.Client) -> float:
    """The speed of a running portal's clock."""
    return float(client.get("/api/v1/clock").raise_for_status().json()["speed"])


@dataclass(frozen=True)
class PlannedRun:
    """A described run and its world: what `plan.json` holds."""

    description: RunDescription
    world: World

    def write(self, path: Path) -> Path:
        body = {
            "description": self.description.model_dump(mode="json"),
            "world": self.world.as_message(),
        }
        path.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path) -> PlannedRun:
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise WorkloadError(f"--run-plan {path}: no such file") from None
        return cls(
            RunDescription.model_validate(body["description"]), World.from_message(body["world"])
        )
