"""`portalsim staffing` as a user meets it: its files and summary lines, and each mistake (a bad
target, a bad --staffing file for a run) as one line with exit code 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loadtest.judge.report.staffing import staffing_markdown
from loadtest.model.staffing import StaffingError, StaffingReport, read_officers
from portalsim.cli import app

runner = CliRunner()
MMC = "loadtest/workloads/mmc-rho06.toml"


def test_staffing_writes_json_markdown_and_a_chart_and_says_one_line_per_level(
    tmp_path: Path,
) -> None:
    result = runner.invoke(
        app, ["staffing", "--workload", MMC, "--target", "0.8", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("6 agencies at scale 1, target 80%")
    assert lines[1].startswith("commune: 0 of 6 agencies below 80% on time today (24 officers")
    written = (tmp_path / "staffing.json").read_text()
    assert json.loads(written)["schema"] == "portalsim.staffing/1"
    # The file is the model's: read back, it writes the same bytes.
    report = StaffingReport.model_validate_json(written)
    assert report.to_json() + "\n" == written
    current = report.agencies[0].current
    # M/M/c: Erlang C's share is the figure, the simulation's beside it within its error.
    assert current.error == 0.0
    assert current.simulated is not None
    assert current.simulated_error is not None
    assert abs(current.simulated - current.share) <= current.simulated_error
    assert report.officers == {r.code: r.recommended for r in report.agencies}
    assert (tmp_path / "staffing.svg").read_text().startswith("<svg")
    assert (tmp_path / "staffing.md").read_text() == staffing_markdown(report)
    # The officers map is what `portalsim run --staffing` reads.
    assert read_officers(tmp_path / "staffing.json") == report.officers


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--target", "1"], "--target 1: an on-time share between 0 and 1"),
        (["--workload", MMC, "--agencies", "3"], "--agencies: a [queueing] workload names"),
        (["--workload", "nowhere.toml"], "no workload file at nowhere.toml"),
    ],
)
def test_a_staffing_mistake_is_one_line(args: list[str], says: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["staffing", "--out", str(tmp_path), *args])
    assert result.exit_code == 2
    assert says in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("s.toml", "[officers]\n'000.00.01.H22' = 0\n", "a whole number >= 1"),
        ("s.toml", "officers = 3\n", "no officers table"),
        ("s.json", "{", "not valid json"),
    ],
)
def test_a_bad_staffing_file_is_refused_naming_the_problem(
    tmp_path: Path, name: str, text: str, says: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(StaffingError, match=says):
        read_officers(path)
    result = runner.invoke(app, ["run", "--plan", "--staffing", str(path)])
    assert result.exit_code == 2
    assert says in result.output
    assert "Traceback" not in result.output


def test_a_run_plan_takes_its_officers_from_the_staffing_file(tmp_path: Path) -> None:
    plain = runner.invoke(app, ["run", "--plan", "--workload", MMC])
    path = tmp_path / "staffing.toml"
    runner.invoke(app, ["staffing", "--workload", MMC, "--target", "0.8", "--out", str(tmp_path)])
    codes = json.loads((tmp_path / "staffing.json").read_text())["officers"]
    path.write_text("[officers]\n" + "".join(f'"{code}" = 9\n' for code in codes))
    staffed = runner.invoke(app, ["run", "--plan", "--workload", MMC, "--staffing", str(path)])
    assert json.loads(plain.output)["officers"] == 24
    assert json.loads(staffed.output)["officers"] == 54
    path.write_text('[officers]\n"999.99.99.H99" = 2\n')
    unknown = runner.invoke(app, ["run", "--plan", "--workload", MMC, "--staffing", str(path)])
    assert unknown.exit_code == 2
    assert "--staffing names 1 agencies the catalogue lacks, e.g. 999.99.99.H99" in unknown.output
