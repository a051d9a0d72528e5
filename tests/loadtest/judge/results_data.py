"""results.json for tests: the stored files, and the current one with sections changed.

- tests/data/results-sample.json: a 30 s run of the default workload written by the harness of
  commit 384d756, the first whose files `portalsim report` read (the oldest format we load);
- tests/data/results-current.json: the same kind of run written just before results.json got a
  type (and -step, -staffed, -soak: runs with the optional sections)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loadtest.results_model import Results

DATA = Path(__file__).parents[2] / "data"
SAMPLE = DATA / "results-sample.json"
CURRENT = DATA / "results-current.json"
CURRENT_WITH_SECTIONS = {
    "steps": DATA / "results-current-step.json",
    "staffing": DATA / "results-current-staffed.json",
    "soak": DATA / "results-current-soak.json",
}
# Sections that are tables of their own (request names, route groups) or lists: given whole.
WHOLE = frozenset({"requests", "groups", "timeseries"})


def stored(path: Path = CURRENT) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def results_with(**sections: Any) -> Results:
    """The current stored results with the named sections changed: a section given as a dict
    is merged into the stored one key by key (except the tables in WHOLE, given whole); None
    leaves an optional section out."""
    data = stored()
    for name, value in sections.items():
        if value is None:
            data.pop(name, None)
        elif isinstance(value, dict) and isinstance(data.get(name), dict) and name not in WHOLE:
            data[name] = {**data[name], **value}
        else:
            data[name] = value
    return Results.model_validate(data)


def latency(p50: float, p99: float, top: float) -> dict[str, float]:
    return {"p50": p50, "p90": p99, "p95": p99, "p99": p99, "p999": top, "max": top}


def request(group: str, count: int, failures: int = 0, *, seconds: float = 10.0) -> dict[str, Any]:
    """A request name's figures (latency of no interest)."""
    return {
        "group": group,
        "count": count,
        "failures": failures,
        "rps": count / seconds,
        "latency_ms": latency(10.0, 50.0, 80.0),
    }


def key_structure(data: dict[str, Any]) -> dict[str, list[str]]:
    """The keys of results.json, in order: at the top, in each section, and in the first entry
    of each table (a request, a route group, an interval) and list."""
    found = {"": list(data)}
    for name, section in data.items():
        if name in ("requests", "groups"):
            found[f"{name}.*"] = list(next(iter(section.values()), {}))
        elif name == "timeseries":
            found["timeseries[]"] = list(section[0]) if section else []
        elif isinstance(section, dict):
            found[name] = list(section)
    return found
