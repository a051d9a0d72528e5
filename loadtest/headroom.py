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
from typing import Any

import httpx

KNEES = "knees.json"
UNKNOWN = "unknown"


def database_of(target: str) -> str:
    """The kind of database behind a portal ("sqlite", "postgresql"), as its /readyz says;
    "unknown" if it does not say (an older portal) or cannot be asked."""
    try:
        body = httpx.get(f"{target.rstrip('/')}/readyz", timeout=10).json()
    except (httpx.HTTPError, ValueError):
        return UNKNOWN
    kind = body.get("database") if isinstance(body, dict) else None
    return kind if isinstance(kind, str) and kind else UNKNOWN


def _knees(out: Path) -> dict[str, Any]:
    try:
        knees = json.loads((out / KNEES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return knees if isinstance(knees, dict) else {}


def record_knee(out: Path, results: dict[str, Any]) -> None:
    """File a step run's knee under its database, if the run found one (a step broke the SLO)
    and knows its database."""
    knee = (results.get("steps") or {}).get("knee") or {}
    database = results["run"].get("database", UNKNOWN)
    if not knee.get("saturated") or knee.get("rps") is None or database == UNKNOWN:
        return
    knees = _knees(out)
    knees[database] = {
        "rps": knee["rps"],
        "run": results["run"]["id"],
        "measured_at": results["run"]["finished_at"],
        "workload": results["plan"].get("workload"),
        "national_peak_rps": knee.get("national_peak_rps"),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / KNEES).write_text(json.dumps(knees, indent=2, sort_keys=True), encoding="utf-8")


def headroom(out: Path, results: dict[str, Any]) -> dict[str, Any]:
    """The run's busiest offered rate against the knee filed for its database, if any."""
    database = results["run"].get("database", UNKNOWN)
    offered = float(results["plan"]["total_rps"])
    knee = _knees(out).get(database)
    if not isinstance(knee, dict) or not knee.get("rps"):
        return {"database": database, "offered_rps": offered, "knee": None, "share": None}
    return {
        "database": database,
        "offered_rps": offered,
        "knee": knee,
        "share": offered / float(knee["rps"]),
    }


def headroom_line(section: dict[str, Any] | None) -> str | None:
    if not section:
        return None
    database = section["database"]
    knee = section["knee"]
    if knee is None:
        return (
            f"  headroom  no knee measured here for {database} yet "
            "(portalsim run --shape step finds it, about 4 minutes)"
        )
    return (
        f"  headroom  offered {section['offered_rps']:.1f} req/s at the busiest hour = "
        f"{section['share']:.0%} of the {database} knee measured here ({knee['rps']:.1f} req/s, "
        f"run {knee['run']})"
    )
