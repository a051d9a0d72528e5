"""The report's charts and tables, computed from results.json alone (so `portalsim report`
rebuilds any run's report): one function per figure, each returning SVG markup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup

from app.core.calendar import VIETNAM_TZ
from loadtest.judge.report.charts import (
    SMALL,
    SPECTRUM_TICKS,
    Series,
    bar_chart,
    empty_chart,
    line_chart,
    spectrum_x,
)
from loadtest.results_model import Interval, Results

SECONDS = "real time into the run, s / thời gian chạy, giây"


def local_time(instant: datetime | str) -> str:
    """A simulated instant as the portal's users read it: Vietnam time."""
    moment = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    return moment.astimezone(VIETNAM_TZ).strftime("%Y-%m-%d %H:%M (UTC+7)")


def _points(
    series: list[Interval], value_of: Callable[[Interval], float | None]
) -> list[tuple[float, float]]:
    found = []
    for interval in series:
        value = value_of(interval)
        if value is not None:
            found.append((interval.t + interval.seconds / 2, float(value)))
    return found


def throughput(results: Results) -> str:
    series = results.timeseries
    return line_chart(
        "Offered vs achieved rate / Tải đề nghị và đạt được (req/s)",
        [
            Series("offered arrivals/s", _points(series, lambda i: i.offered_rps)),
            Series("started arrivals/s", _points(series, lambda i: i.started_rps)),
            Series("completed requests/s", _points(series, lambda i: i.achieved_rps)),
        ],
        x_label=SECONDS,
        y_label="per second / mỗi giây",
        markers=_stop_marker(results),
    )


def _stop_marker(results: Results) -> list[tuple[float, str]]:
    stopped = results.run.stopped
    return [(results.run.real_seconds, f"stopped: {stopped.kind}")] if stopped else []


def latency_by_group(results: Results) -> list[tuple[str, str]]:
    """One chart per route group: p50, p95 and p99 per interval."""
    series = results.timeseries
    charts = []
    for group in results.groups:

        def of(name: str, group: str = group) -> list[tuple[float, float]]:
            def value(interval: Interval) -> float | None:
                figures = interval.groups.get(group)
                return None if figures is None else float(getattr(figures, name))

            return _points(series, value)

        charts.append(
            (
                group,
                line_chart(
                    f"{group}: latency over time / độ trễ (ms)",
                    [Series("p50", of("p50")), Series("p95", of("p95")), Series("p99", of("p99"))],
                    x_label=SECONDS,
                    y_label="ms, from the intended start",
                    width=SMALL,
                ),
            )
        )
    return charts


def distribution(results: Results) -> str:
    lines = [
        Series(group, [(spectrum_x(p), ms) for p, ms in entry.distribution])
        for group, entry in results.groups.items()
    ]
    return line_chart(
        "Latency distribution / Phân bố độ trễ (ms by percentile)",
        lines,
        x_label="percentile / phân vị",
        y_label="ms",
        x_ticks=SPECTRUM_TICKS,
    )


def errors(results: Results) -> str:
    series = results.timeseries
    kinds = sorted({kind for i in series for kind in i.errors})
    if not kinds:
        return empty_chart("Errors over time / Lỗi theo thời gian", "no failed request / không lỗi")

    def failed(kind: str) -> Callable[[Interval], float]:
        return lambda interval: interval.errors.get(kind, 0)

    return line_chart(
        "Errors over time by kind / Lỗi theo loại (per interval)",
        [Series(kind, _points(series, failed(kind))) for kind in kinds],
        x_label=SECONDS,
        y_label="failed requests",
    )


def lag(results: Results) -> str:
    series = results.timeseries
    budget = results.arrivals.budget_ms
    return line_chart(
        f"Arrivals' lag (budget {budget:g} ms) / Độ trễ khởi phát (ms)",
        [
            Series("p99", _points(series, lambda i: i.lag_ms.p99 if i.lag_ms else None)),
            Series("max", _points(series, lambda i: i.lag_ms.max if i.lag_ms else None)),
        ],
        x_label=SECONDS,
        y_label="ms late",
    )


def on_time_over_time(results: Results) -> str:
    buckets = results.business.over_time
    if not buckets:
        return empty_chart("On-time share over simulated time", "not in these results")
    first = datetime.fromisoformat(buckets[0].start)
    start = first.timestamp()
    points = [
        ((datetime.fromisoformat(b.end).timestamp() - start) / 3600, b.on_time_share)
        for b in buckets
        if b.on_time_share is not None
    ]
    return line_chart(
        "On-time share over simulated time / Tỷ lệ đúng hạn theo thời gian mô phỏng",
        [Series("on time (early + on time) / finished", points)],
        x_label=f"simulated hours from {local_time(first)} / giờ mô phỏng",
        y_label="share",
        y_max=1.0,
        y_format="%",
    )


def on_time_by(results: Results) -> list[tuple[str, str]]:
    charts = []
    names = {
        "level": "agency level / cấp",
        "channel": "channel / kênh",
        "field": "field / lĩnh vực",
    }
    for dimension, groups in results.business.by.items():
        bars = [
            (
                key,
                entry.on_time_share,
                "n/a"
                if entry.on_time_share is None
                else f"{entry.on_time_share:.1%} of {entry.finished}",
            )
            for key, entry in groups.items()
        ]
        charts.append(
            (dimension, bar_chart(f"On-time share by {names.get(dimension, dimension)}", bars))
        )
    return charts


def steps(results: Results) -> str | None:
    section = results.steps
    if section is None:
        return None
    judged = section.judged
    knee = section.knee
    markers = []
    if knee.level is not None:
        markers.append((knee.level, "knee (SLO)"))
    if knee.kneedle_level is not None:
        markers.append((knee.kneedle_level, "Kneedle"))
    return line_chart(
        "Steps: offered load vs latency / Bậc tải: tải và độ trễ",
        [
            Series("p50", [(s.level, s.latency_ms.p50) for s in judged]),
            Series("p99", [(s.level, s.latency_ms.p99) for s in judged]),
            Series(
                "requests/s completed (same scale)",
                [(s.level, s.achieved_rps) for s in judged],
            ),
        ],
        x_label="step level: x the national peak offered / bậc tải (x đỉnh quốc gia)",
        y_label="ms",
        markers=markers,
    )


def memory(results: Results) -> str | None:
    points = list(results.memory.series_mib)
    if not points:
        return None
    return line_chart(
        "Portal memory (RSS of its processes) / Bộ nhớ của cổng (MiB)",
        [Series("RSS MiB", points)],
        x_label=SECONDS,
        y_label="MiB",
        y_min=None,
    )


@dataclass(frozen=True)
class Figures:
    """Every chart of the report, as markup this package drew (every text in it escaped)."""

    throughput: Markup
    latency_by_group: list[tuple[str, Markup]]
    distribution: Markup
    errors: Markup
    lag: Markup
    on_time_over_time: Markup
    on_time_by: list[tuple[str, Markup]]
    steps: Markup | None
    memory: Markup | None


def all_figures(results: Results) -> Figures:
    def titled(charts: list[tuple[str, str]]) -> list[tuple[str, Markup]]:
        return [(title, Markup(chart)) for title, chart in charts]

    step_chart, memory_chart = steps(results), memory(results)
    return Figures(
        throughput=Markup(throughput(results)),
        latency_by_group=titled(latency_by_group(results)),
        distribution=Markup(distribution(results)),
        errors=Markup(errors(results)),
        lag=Markup(lag(results)),
        on_time_over_time=Markup(on_time_over_time(results)),
        on_time_by=titled(on_time_by(results)),
        steps=None if step_chart is None else Markup(step_chart),
        memory=None if memory_chart is None else Markup(memory_chart),
    )
