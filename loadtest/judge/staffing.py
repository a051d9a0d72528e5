"""A run at a given staffing, judged beside the staffing's prediction: the on-time share that
`portalsim staffing`'s offline queue predicts for the run's own window (replayed with many
seeds, so that one run's sampling error is known), beside the share the run measured."""

from __future__ import annotations

import math
import statistics
import zlib
from datetime import UTC, datetime

import numpy as np

from app.core.calendar import WorkingCalendar
from loadtest.judge.audit import LedgerRecord, PortalDossier, instant
from loadtest.judge.distortion import ON_TIME, judged_views
from loadtest.model.staffing import Axis, decided_at, draw_dossiers
from loadtest.model.workload import Workload
from loadtest.model.world import Agency, World
from loadtest.results_model import Staffing, StaffingAgency, StaffingShare

REPLICATIONS = 40


def window_shares(
    workload: Workload,
    calendar: WorkingCalendar,
    world: World,
    agency: Agency,
    replications: int = REPLICATIONS,
) -> list[tuple[int, int]]:
    """(on time, decided) of the agency in each of `replications` simulated runs of the run's
    own window, counted as results.json counts a run (loadtest/judge/business.py, queueing_section):
    dossiers accepted after the warm-up whose due date passed before the end."""
    timeline = world.timeline
    start = datetime.fromtimestamp(timeline.sim_start, UTC)
    span = (timeline.sim_end - timeline.sim_start) / 3600
    axis = Axis(workload, calendar, start, math.ceil(span) + 1)
    first, end = float(axis.quarters[0]), float(axis.working(np.array([span]))[0])
    warm_up = first + (end - first) * workload.run.warmup_share
    found = []
    for replication in range(replications):
        rng = np.random.default_rng([world.seed, zlib.crc32(agency.code.encode()), replication])
        dossiers = draw_dossiers(workload, axis, agency, world.procedures, world.scale, rng)
        inside = [i for i, a in enumerate(dossiers.ready) if warm_up <= a < end]
        decided, due = decided_at(dossiers, agency.officers)
        counted = [i for i in inside if due[i] < end]
        found.append((sum(decided[i] <= due[i] + 1e-9 for i in counted), len(counted)))
    return found


def _prediction(outcomes: list[tuple[int, int]]) -> tuple[float | None, float]:
    """The expected share of one run and the 95% half-width of one run's share about it (the
    spread over replications, plus the error of their mean)."""
    shares = [on / n for on, n in outcomes if n]
    if not shares:
        return None, 0.0
    total_on, total = sum(on for on, _ in outcomes), sum(n for _, n in outcomes)
    spread = statistics.stdev(shares) if len(shares) > 1 else 0.0
    return total_on / total, 1.96 * spread * math.sqrt(1 + 1 / len(shares))


def staffing_section(
    views: dict[str, PortalDossier],
    ledger: dict[str, LedgerRecord],
    world: World,
    workload: Workload,
    calendar: WorkingCalendar,
    file: str,
) -> Staffing:
    """results.json's `staffing`: per agency and overall, the predicted share of this run's
    window at its staffing beside the share the run measured, and whether they agree within
    one run's sampling error."""
    timeline = world.timeline
    start = datetime.fromtimestamp(timeline.sim_start, UTC)
    end = datetime.fromtimestamp(timeline.sim_end, UTC)
    warm_up = calendar.add(start, calendar.between(start, end) * workload.run.warmup_share)
    measured: dict[str, list[bool]] = {a.code: [] for a in world.agencies}
    # Judged as results.json judges a run: by the instants the workload intended.
    for code, view in judged_views(views, ledger, world.procedures, calendar).items():
        agency = ledger.get(code, {}).get("agency")
        if agency not in measured or not view["accepted_at"] or not view["due_at"]:
            continue
        if instant(view["accepted_at"]) < warm_up or instant(view["due_at"]) >= end:
            continue
        measured[agency].append(view["timeliness"] in ON_TIME)

    def row(code: str, outcomes: list[tuple[int, int]], seen: list[bool]) -> StaffingShare:
        predicted, tolerance = _prediction(outcomes)
        share = sum(seen) / len(seen) if seen else None
        return StaffingShare(
            code=code,
            predicted=None if predicted is None else round(predicted, 4),
            tolerance=round(tolerance, 4),
            measured=None if share is None else round(share, 4),
            n=len(seen),
            within=(
                None
                if share is None or predicted is None
                else abs(share - predicted) <= tolerance + 1e-9
            ),
        )

    rows, pooled = [], [(0, 0)] * REPLICATIONS
    for agency in world.agencies:
        outcomes = window_shares(workload, calendar, world, agency)
        pooled = [(a + c, b + d) for (a, b), (c, d) in zip(pooled, outcomes, strict=True)]
        share = row(agency.code, outcomes, measured[agency.code])
        rows.append(StaffingAgency(**share.model_dump(), officers=agency.officers))
    everything = [hit for seen in measured.values() for hit in seen]
    return Staffing(
        file=file,
        replications=REPLICATIONS,
        agencies=rows,
        overall=row("all", pooled, everything),
    )
