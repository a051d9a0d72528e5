"""The reviewers' files: report.html (self-contained, every section a reviewer reads, charts
with data) and report.md, rebuilt by `portalsim report`; `portalsim compare` on the command
line. The page itself is opened in Chromium in test_report_browser.py."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from loadtest.judge.report import ReportError, read_results, render_html, write_reports
from loadtest.judge.report.markdown import render_markdown
from loadtest.results_model import Results, to_json
from portalsim.cli import app
from tests.loadtest.judge.results_data import SAMPLE, stored
from tests.loadtest.judge.test_compare import make_results, typed
from tests.loadtest.judge.test_results import minimal_results, with_queueing

runner = CliRunner()


def sample() -> dict[str, Any]:
    """The stored results.json of the oldest format: what an old run's folder holds."""
    return stored(SAMPLE)


def run_folder(tmp_path: Path, results: dict[str, Any] | Results, name: str = "run") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    text = to_json(results) if isinstance(results, Results) else json.dumps(results)
    (folder / "results.json").write_text(text, encoding="utf-8")
    return folder


def charts(html: str) -> dict[str, int]:
    """Each chart's title and its number of data points."""
    found = re.findall(
        r'<svg class="chart" data-kind="\w+" data-points="(\d+)".*?<title>(.*?)</title>', html
    )
    return {unescape(title): int(points) for points, title in found}


def test_the_report_is_one_file_that_asks_no_other_host() -> None:
    html = render_html(Results.model_validate(sample()))
    assert html.startswith("<!doctype html>")
    # No external script, style, font or image: nothing with a URL to load.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert "<link" not in html


def test_the_report_shows_every_section_a_reviewer_reads() -> None:
    html = render_html(Results.model_validate(sample()))
    for section in (
        "verdict",
        "plan",
        "throughput",
        "latency",
        "errors",
        "lag",
        "business",
        "payments-sync",
        "thresholds",
        "audit",
    ):
        assert f'<section id="{section}">' in html
    assert "Hợp lệ · Valid" in html
    assert "Kiểm toán đạt · Audit passed" in html
    assert "The generator was not the bottleneck" in html
    # Simulated instants in Vietnam time: the default workload starts at 07:00 on 2 March.
    assert "2026-03-02 07:00 (UTC+7)" in html
    drawn = charts(html)
    assert drawn["Offered vs achieved rate / Tải đề nghị và đạt được (req/s)"] > 10
    assert drawn["Latency distribution / Phân bố độ trễ (ms by percentile)"] > 10
    assert drawn["submit: latency over time / độ trễ (ms)"] > 0
    assert any(title.startswith("Arrivals' lag") and n > 0 for title, n in drawn.items())
    assert any(title.startswith("On-time share by channel") and n > 0 for title, n in drawn.items())


def test_the_queueing_check_says_whether_the_officers_queue_was_the_models() -> None:
    figures = {"predicted": 0.819, "measured": 0.809, "n": 981, "utilisation": 0.6}
    before = render_html(with_queueing(minimal_results(), **figures))
    assert '<section id="queueing">' in before
    assert 'id="queue"' not in before  # a file from before the per-dossier check
    kept = with_queueing(minimal_results(), **figures, queue={"checked": 1095, "elsewhere": 3})
    paragraph = re.search(r'<p id="queue">(.*?)</p>', render_html(kept))
    assert paragraph is not None
    assert "was NOT the model's: 3 of 1095 dossiers finished elsewhere" in unescape(paragraph[1])


def test_broken_thresholds_turn_the_verdict_and_name_each_rule() -> None:
    results = sample()
    results["thresholds"] = {
        "ok": False,
        "aborted": None,
        "rules": [
            {
                "rule": "submit.p99_ms < 50",
                "status": "broken",
                "measured": 120.3,
                "reason": None,
                "line": "broken: submit.p99_ms < 50 (measured 120.3)",
            },
            {
                "rule": "audit.ok",
                "status": "met",
                "measured": True,
                "reason": None,
                "line": "met: audit.ok (measured true)",
            },
        ],
    }
    html = render_html(Results.model_validate(results))
    assert "Vượt ngưỡng · Thresholds broken" in html
    assert "1 of 2 met" in html
    assert "FAILED: 1 threshold(s) broken: submit.p99_ms &lt; 50 (measured 120.3)" in html
    markdown = render_markdown(Results.model_validate(results))
    assert "| `submit.p99_ms < 50` | 120.3 | broken |" in markdown
    assert markdown.startswith("### portalsim run `new1`: ❌ FAILED: 1 threshold(s) broken")


def test_a_step_run_names_its_knee_against_the_national_peak() -> None:
    results = sample()
    results["plan"]["shape"] = {"name": "step", "start": 1.0, "increment": 1.0, "steps": 3}
    step = {
        "from_s": 0.0,
        "to_s": 20.0,
        "offered": 40,
        "late": 0,
        "count": 900,
        "failures": 0,
        "error_rate": 0.0,
    }
    latency = {"p50": 5.0, "p90": 9.0, "p95": 10.0, "p99": 12.0, "p999": 13.0, "max": 14.0}
    judged = [
        {
            **step,
            "step": i,
            "level": i + 1.0,
            "offered_rps": 2.0 * (i + 1),
            "achieved_rps": 45.0 * (i + 1),
            "latency_ms": latency,
            "met": i < 2,
            "broken": [] if i < 2 else ["broken: all.p99_ms < 10 (measured 12)"],
        }
        for i in range(3)
    ]
    results["steps"] = {
        "slo": ["all.p99_ms < 10"],
        "levels": [1.0, 2.0, 3.0],
        "judged": judged,
        "kept_to_schedule": True,
        "knee": {
            "rule": "the request rate of the highest step that met the SLO",
            "rps": 90.0,
            "offered_arrivals_rps": 4.0,
            "step": 1,
            "level": 2.0,
            "national_peak_rps": 30.0,
            "multiple_of_national_peak": 3.0,
            "first_broken_step": 2,
            "saturated": True,
            "kneedle_level": None,
            "kneedle_rps": None,
            "kneedle_multiple_of_national_peak": None,
        },
    }
    html = render_html(Results.model_validate(results))
    assert '<section id="steps">' in html
    assert "Knee / Điểm gãy: 90.0 requests/s (step 1, level × 2" in html
    assert "= 3 × the national peak (30.0/s); step 2 broke it" in html
    markdown = render_markdown(Results.model_validate(results))
    assert "**Knee**: 90.0 requests/s (step 1) = 3× the national peak" in markdown


def test_portalsim_report_rebuilds_both_files(tmp_path: Path) -> None:
    folder = run_folder(tmp_path, sample())
    for _ in range(2):  # twice in a row: a rebuild overwrites
        result = runner.invoke(app, ["report", str(folder)])
        assert result.exit_code == 0, result.output
    assert result.output.split() == [str(folder / "report.html"), str(folder / "report.md")]
    assert (folder / "report.html").read_text(encoding="utf-8").startswith("<!doctype html>")
    assert (folder / "report.md").read_text(encoding="utf-8").startswith("### portalsim run")


def test_portalsim_report_on_a_folder_without_results_says_so_in_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip() == f"no results.json in {tmp_path}: is it a run's folder?"
    (tmp_path / "results.json").write_text('{"schema": "other"}')
    with pytest.raises(ReportError, match="not a portalsim results file"):
        read_results(tmp_path)


def test_the_report_can_embed_a_comparison(tmp_path: Path) -> None:
    baseline = run_folder(tmp_path, sample(), "base")
    candidate = run_folder(tmp_path, sample(), "cand")
    result = runner.invoke(app, ["report", str(candidate), "--compare", str(baseline)])
    assert result.exit_code == 0, result.output
    html = (candidate / "report.html").read_text(encoding="utf-8")
    assert '<section id="comparison">' in html
    assert "no significant change" in (candidate / "report.md").read_text(encoding="utf-8")


def test_portalsim_compare_prints_a_verdict_and_can_fail_on_regression(tmp_path: Path) -> None:
    # Two minutes of 5-second intervals a side: enough samples for a verdict (see test_compare).
    baseline = run_folder(tmp_path, typed(make_results(1, run_id="base")), "base")
    same = run_folder(tmp_path, typed(make_results(2, run_id="same")), "same")
    result = runner.invoke(app, ["compare", str(baseline), str(same), "--fail-on-regression"])
    assert result.exit_code == 0, result.output
    assert "Mann-Whitney" in result.output
    slower = make_results(3, run_id="slower", slower={"catalogue": 2.0})
    worse = run_folder(tmp_path, typed(slower), "worse")
    result = runner.invoke(app, ["compare", str(baseline), str(worse)])
    assert result.exit_code == 0  # without the flag a regression is reported, not failed
    assert re.search(r"catalogue +latency p50 .* worse", result.output), result.output
    result = runner.invoke(app, ["compare", str(baseline), str(worse), "--fail-on-regression"])
    assert result.exit_code == 1
    assert "latency p50 catalogue" in result.output.splitlines()[-1]
    assert result.output.splitlines()[-1].startswith("regression: ")
    as_json = runner.invoke(app, ["compare", str(baseline), str(worse), "--json"])
    assert json.loads(as_json.output)["schema"] == "portalsim.compare/1"


def test_portalsim_compare_refuses_different_plans_in_one_line(tmp_path: Path) -> None:
    baseline = run_folder(tmp_path, sample(), "base")
    other = sample()
    other["plan"]["speed"] = 600.0
    candidate = run_folder(tmp_path, other, "other")
    result = runner.invoke(app, ["compare", str(baseline), str(candidate)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "speed" in result.output
    allowed = runner.invoke(app, ["compare", str(baseline), str(candidate), "--allow-plan-change"])
    assert allowed.exit_code == 0, allowed.output


def test_write_reports_writes_both(tmp_path: Path) -> None:
    written = write_reports(tmp_path, Results.model_validate(sample()))
    assert [p.name for p in written] == ["report.html", "report.md"]


COMPARED = Path("tests/data/compared")


def test_a_comparison_prints_and_embeds_the_same_bytes_as_stored(tmp_path: Path) -> None:
    """`portalsim compare` (its table and `--json`, `portalsim.compare/1`) and the report with a
    comparison embedded, byte for byte as stored in tests/data/compared/ (written before the
    comparison reached the report as a typed value rather than its JSON)."""
    baseline = run_folder(tmp_path, typed(make_results(1, run_id="base")), "base")
    slower = make_results(3, run_id="slower", slower={"catalogue": 2.0})
    candidate = run_folder(tmp_path, typed(slower), "slower")
    table = runner.invoke(app, ["compare", str(baseline), str(candidate)])
    as_json = runner.invoke(app, ["compare", str(baseline), str(candidate), "--json"])
    report = runner.invoke(app, ["report", str(candidate), "--compare", str(baseline)])
    assert report.exit_code == 0, report.output
    found = {
        "compare.txt": table.output,
        "compare.json": as_json.output,
        "report.md": (candidate / "report.md").read_text(encoding="utf-8"),
        "report.html": (candidate / "report.html").read_text(encoding="utf-8"),
    }
    for name, text in found.items():
        assert text == (COMPARED / name).read_text(encoding="utf-8"), name
