"""How far a run stood from the knee measured on this machine.

A step run (`--shape step`) that finds its knee files it in the reports folder, in
`knees.json`, under the kind of database the portal ran on (the portal's `/readyz` names it):
the knee is the machine's and the database's, not the workload's. Every run then compares the
rate it offered at its busiest hour with that knee, in results.json (`headroom`) and in its
summary, so that a reader sees whether the run measured a portal with room to spare or one at
its limit."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from pydantic import ValidationError

from loadtest.results_model import UNKNOWN_DATABASE, FiledKnee, Headroom, Results

KNEES = "knees.json"
UNKNOWN = UNKNOWN_DATABASE


def database_of(target: str) -> str:
    """The kind of database behind a portal ("sqlite", "postgresql"), as its /readyz says;
    "unknown" if it does not say (an older portal) or cannot be asked."""
    try:
        body = httpx.get(f"{target.rstrip('/')}/readyz", timeout=10).json()
    except (httpx.HTTPError, ValueError):
        return UNKNOWN
    kind = body.get("database") if isinstance(body, dict) else None
    return kind if isinstance(kind, str) and kind else UNKNOWN


def _knees(out: Path) -> dict[str, FiledKnee]:
    """knees.json: the knee filed per database kind (an unreadable entry is no knee)."""
    try:
        knees = json.loads((out / KNEES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(knees, dict):
        return {}
    filed = {}
    for database, knee in knees.items():
        try:
            filed[database] = FiledKnee.model_validate(knee)
        except ValidationError:
            continue
    return filed


def record_knee(out: Path, results: Results) -> None:
    """File a step run's knee under its database, if the run found one (a step broke the SLO)
    and knows its database."""
    knee = results.steps.knee if results.steps is not None else None
    database = results.run.database
    if knee is None or not knee.saturated or knee.rps is None or database == UNKNOWN:
        return
    knees = _knees(out)
    knees[database] = FiledKnee(
        rps=knee.rps,
        run=results.run.id,
        measured_at=results.run.finished_at,
        workload=results.plan.workload,
        national_peak_rps=knee.national_peak_rps,
    )
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        {name: filed.model_dump(mode="json") for name, filed in knees.items()},
        indent=2,
        sort_keys=True,
    )
    (out / KNEES).write_text(text, encoding="utf-8")


def headroom(out: Path, results: Results) -> Headroom:
    """The run's busiest offered rate against the knee filed for its database, if any."""
    database = results.run.database
    offered = results.plan.total_rps
    knee = _knees(out).get(database)
    if knee is None or not knee.rps:
        return Headroom(database=database, offered_rps=offered, knee=None, share=None)
    return Headroom(database=database, offered_rps=offered, knee=knee, share=offered / knee.rps)


def headroom_line(section: Headroom | None) -> str | None:
    if section is None:
        return None
    database = section.database
    knee = section.knee
    if knee is None or section.share is None:
        return (
            f"  headroom  no knee measured here for {database} yet "
            "(portalsim run --shape step finds it, about 4 minutes)"
        )
    return (
        f"  headroom  offered {section.offered_rps:.1f} req/s at the busiest hour = "
        f"{section.share:.0%} of the {database} knee measured here ({knee.rps:.1f} req/s, "
        f"run {knee.run})"
    )
