"""`portalsim run` as a tester types it: the plan without any server, and every mistake
answered with one line and exit code 2 before anything starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from portalsim.cli import app

runner = CliRunner()


def test_the_plan_needs_no_server_and_names_every_actor() -> None:
    result = runner.invoke(app, ["run", "--plan", "--scale", "0.1", "--speed", "1200"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert (plan["scale"], plan["speed"], plan["agencies"]) == (0.1, 1200.0, 12)
    actors = {"citizen", "browse", "backoffice", "sync", "payer", "reviewer"}
    assert set(plan["arrivals_per_s"]) == actors == set(plan["pools"])
    assert plan["total_rps"] == pytest.approx(sum(plan["requests_per_s"].values()), abs=0.01)


def test_doubling_the_scale_doubles_the_demand() -> None:
    plans = [
        json.loads(runner.invoke(app, ["run", "--plan", "--scale", scale]).output)
        for scale in ("0.02", "0.04")
    ]
    single, double = (p["arrivals_per_s"] for p in plans)
    for actor in ("citizen", "browse", "payer"):
        assert double[actor] == pytest.approx(2 * single[actor], rel=1e-3)
    assert double["backoffice"] == single["backoffice"]  # inbox checks are periodic


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--workload", "nowhere.toml"], "no workload file at nowhere.toml"),
        (["--duration", "soon"], "duration 'soon': use e.g. 90s, 10m or 1h30m"),
        (["--scale", "40"], "above the ceiling of 250/s"),
    ],
)
def test_a_mistake_is_one_line_and_exit_2(arguments: list[str], says: str) -> None:
    result = runner.invoke(app, ["run", *arguments])
    assert result.exit_code == 2
    assert says in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_malformed_workload_names_the_key(tmp_path: Path) -> None:
    workload = tmp_path / "w.toml"
    workload.write_text("[citizen]\npolls_per_dossiers = 2\n", encoding="utf-8")
    result = runner.invoke(app, ["run", "--plan", "--workload", str(workload)])
    assert result.exit_code == 2
    assert "citizen.polls_per_dossiers" in result.output
