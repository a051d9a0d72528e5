"""What a soak adds to a report: drift of latency and of the portal's memory over the run.

Drift is the least-squares slope over the run (per minute of real time) and the change from
the first quarter's median to the last quarter's: a leak or a growing queue shows as both, a
single slow interval as neither."""

from __future__ import annotations

from statistics import median

from scipy.stats import linregress  # type: ignore[import-untyped]

from loadtest.results_model import Drift, Interval, Soak


def _drift(points: list[tuple[float, float]], unit: str) -> Drift | None:
    if len(points) < 8:
        return None
    times, values = zip(*points, strict=True)
    fit = linregress(times, values)
    quarter = max(2, len(values) // 4)
    first, last = median(values[:quarter]), median(values[-quarter:])
    return Drift(
        unit=unit,
        slope_per_minute=round(float(fit.slope) * 60, 4),
        first_quarter=round(first, 3),
        last_quarter=round(last, 3),
        change=round(last / first - 1, 4) if first else None,
        r2=round(float(fit.rvalue) ** 2, 4),
    )


def drift_section(timeseries: list[Interval], memory: list[tuple[float, float]]) -> Soak:
    busy = [i for i in timeseries if i.latency_ms.max > 0]
    return Soak(
        latency_p50=_drift([(i.t, i.latency_ms.p50) for i in busy], "ms"),
        latency_p99=_drift([(i.t, i.latency_ms.p99) for i in busy], "ms"),
        memory=_drift(memory, "MiB"),
    )
