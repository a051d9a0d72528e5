"""A step run files its knee per database in the reports folder, and every run states how far
its busiest hour stood from the knee measured for its database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loadtest.judge.headroom import KNEES, UNKNOWN, database_of, headroom, record_knee
from loadtest.judge.results import summary_lines
from loadtest.results_model import Results
from tests.loadtest.judge.results_data import CURRENT_WITH_SECTIONS, stored


def a_run(database: str, total_rps: float, knee: dict[str, Any] | None = None) -> Results:
    """A step run's results (the stored one, with `knee`), or the same run without steps."""
    data = stored(CURRENT_WITH_SECTIONS["steps"])
    data["run"] |= {"id": f"run-{database}-{total_rps:g}", "database": database}
    data["plan"]["total_rps"] = total_rps
    if knee is None:
        del data["steps"]
    else:
        data["steps"]["knee"] |= knee
    return Results.model_validate(data)


def a_knee(rps: float | None, *, saturated: bool = True) -> dict[str, Any]:
    return {"rps": rps, "saturated": saturated, "national_peak_rps": 91.4}


def test_a_step_run_files_its_knee_under_its_database(tmp_path: Path) -> None:
    record_knee(tmp_path, a_run("sqlite", 40, a_knee(120.5)))
    record_knee(tmp_path, a_run("postgresql", 40, a_knee(300.0)))
    record_knee(tmp_path, a_run("sqlite", 40, a_knee(130.0)))  # the newest knee wins

    knees = json.loads((tmp_path / KNEES).read_text(encoding="utf-8"))

    assert {kind: knee["rps"] for kind, knee in knees.items()} == {
        "sqlite": 130.0,
        "postgresql": 300.0,
    }
    assert knees["sqlite"]["run"] == "run-sqlite-40"


def test_no_knee_is_filed_without_one(tmp_path: Path) -> None:
    record_knee(tmp_path, a_run("sqlite", 40))  # not a step run
    record_knee(tmp_path, a_run("sqlite", 40, a_knee(None)))  # the first step broke the SLO
    record_knee(tmp_path, a_run("sqlite", 40, a_knee(80.0, saturated=False)))  # at least
    record_knee(tmp_path, a_run(UNKNOWN, 40, a_knee(80.0)))  # whose database?

    assert not (tmp_path / KNEES).exists()


def test_a_run_states_its_share_of_the_knee_measured_for_its_database(tmp_path: Path) -> None:
    record_knee(tmp_path, a_run("sqlite", 40, a_knee(120.0)))
    run = a_run("sqlite", 30)
    run = run.model_copy(update={"headroom": headroom(tmp_path, run)})

    lines = summary_lines(run, tmp_path / "run")

    assert run.headroom is not None
    assert run.headroom.share == 0.25
    assert any(
        "offered 30.0 req/s at the busiest hour = 25% of the sqlite knee measured here "
        "(120.0 req/s, run run-sqlite-40)" in line
        for line in lines
    )


def test_a_run_on_another_database_says_none_was_measured(tmp_path: Path) -> None:
    record_knee(tmp_path, a_run("sqlite", 40, a_knee(120.0)))
    run = a_run("postgresql", 30)
    run = run.model_copy(update={"headroom": headroom(tmp_path, run)})

    assert run.headroom is not None
    assert run.headroom.share is None
    assert any(
        "no knee measured here for postgresql yet" in line
        for line in summary_lines(run, tmp_path / "run")
    )


def test_a_target_that_cannot_say_its_database_is_unknown() -> None:
    assert database_of("http://127.0.0.1:9") == UNKNOWN
