"""report.html in a real headless Chromium: it loads from a file:// URL with no request to
any other address and no console error, its charts have data, its tables sort, and a
screenshot is taken."""

from __future__ import annotations

from pathlib import Path

from loadtest.judge.report import write_reports
from loadtest.results_model import load_results
from tests.loadtest.judge.results_data import SAMPLE
from tests.support.browser import visit


def test_the_report_opens_offline_with_charts_and_sorting_tables(tmp_path: Path) -> None:
    html, _ = write_reports(tmp_path, load_results(SAMPLE))
    url = html.resolve().as_uri()
    with visit(url) as seen:
        page = seen.page
        assert seen.requests == [url]  # nothing else: no script, style, font or image fetched
        assert seen.console_errors == []
        assert seen.page_errors == []
        assert "Báo cáo kiểm thử tải" in page.inner_text("h1")
        assert page.inner_text("#badge-valid").startswith("Hợp lệ · Valid")
        # Every chart is drawn, and the main ones have lines with points.
        assert page.locator("svg.chart").count() >= 8
        throughput = page.locator("#throughput svg.chart polyline.series")
        assert throughput.count() == 3
        assert len((throughput.first.get_attribute("points") or "").split()) > 5
        box = page.locator("#throughput svg.chart").bounding_box()
        assert box is not None
        assert box["width"] > 300
        assert box["height"] > 100
        # Sorting the requests table by count puts the largest first on the second click.
        counts = page.locator("#requests-table tbody tr td:nth-child(3)")
        header = page.locator("#requests-table thead th:nth-child(3)")
        header.click()
        header.click()
        shown = [int(text.replace(",", "")) for text in counts.all_inner_texts()]
        assert shown == sorted(shown, reverse=True)
        assert header.get_attribute("aria-sort") == "descending"
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
