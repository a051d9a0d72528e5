"""results.json's model: its published schema is the model's, the files the harness writes
come back through it byte for byte, and files of the oldest format still load and report."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from loadtest.judge.results import summary_lines, verdict_of_results
from loadtest.results_model import (
    SCHEMA_FILE,
    Results,
    ResultsError,
    load_results,
    main,
    schema_text,
    to_json,
)
from portalsim.cli import app
from tests.loadtest.judge.results_data import (
    CURRENT,
    CURRENT_WITH_SECTIONS,
    SAMPLE,
    key_structure,
    stored,
)

CURRENT_FILES = [CURRENT, *CURRENT_WITH_SECTIONS.values()]


def test_the_published_schema_is_the_models() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "docs/results.schema.json is out of date: "
        "uv run python -m loadtest.results_model > docs/results.schema.json"
    )


@pytest.mark.parametrize("path", [SAMPLE, *CURRENT_FILES], ids=lambda p: p.stem)
def test_the_schema_accepts_every_stored_results_file(path: Path) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(stored(path), schema)


@pytest.mark.parametrize("path", CURRENT_FILES, ids=lambda p: p.stem)
def test_a_current_file_comes_back_through_the_model_with_its_keys_and_values(path: Path) -> None:
    """Written before the format had a type: the model's output has the same keys in the same
    order and equal values (an integer the workload wrote, 1000, comes back as 1000.0)."""
    data = stored(path)
    rewritten = json.loads(to_json(load_results(path)))
    assert rewritten == data
    assert key_structure(rewritten) == key_structure(data)


@pytest.mark.parametrize("path", CURRENT_FILES, ids=lambda p: p.stem)
def test_write_load_write_gives_the_same_bytes(path: Path) -> None:
    written = to_json(load_results(path))
    assert to_json(Results.model_validate_json(written)) == written


def test_a_file_of_the_oldest_format_loads_with_what_it_did_not_measure() -> None:
    """tests/data/results-sample.json was written at commit 384d756, before the run's database,
    the target's probes, the chain's distortion, the headroom and the audit's `performed`."""
    results = load_results(SAMPLE)
    assert results.run.database == "unknown"
    assert results.target is None
    assert results.chain is None
    assert results.headroom is None
    assert results.audit.performed
    assert results.audit.not_performed is None
    assert results.business.on_time_share_as_recorded is None
    assert "on_time_share_as_recorded" not in results.business.model_fields_set
    assert verdict_of_results(results).reason == "OK: valid run, audit passed"
    lines = summary_lines(results, Path("reports/new1"))
    assert "portalsim run new1: scale 0.05, speed 2400" in lines[1]
    assert not any(line.startswith(("  chain", "  headroom")) for line in lines)


def test_portalsim_report_rebuilds_a_run_folder_of_the_oldest_format(tmp_path: Path) -> None:
    folder = tmp_path / "new1"
    folder.mkdir()
    (folder / "results.json").write_bytes(SAMPLE.read_bytes())
    result = CliRunner().invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    assert markdown.startswith("### portalsim run `new1`: ✅ OK: valid run, audit passed")
    assert "Clock distortion" not in markdown  # no chain was measured then
    # No on-time share by the portal's recorded instants then: the report does not invent one.
    assert "by the instants the portal recorded" not in (folder / "report.html").read_text()


def test_a_file_that_breaks_the_format_is_refused_in_one_line(tmp_path: Path) -> None:
    data = stored()
    data["run"]["workers"] = "two"
    del data["audit"]["checked"]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ResultsError) as refused:
        load_results(path)
    message = str(refused.value)
    assert "\n" not in message
    assert "does not match portalsim.results/1 at run.workers" in message
    assert "(2 problem(s) in all)" in message


def test_the_module_prints_the_schema_and_checks_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([]) == 0
    assert capsys.readouterr().out == schema_text()
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": "portalsim.results/1"}', encoding="utf-8")
    assert main([str(CURRENT), str(broken)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"valid: {CURRENT}"
    assert out[1].startswith(f"invalid: {broken} does not match portalsim.results/1 at run:")
