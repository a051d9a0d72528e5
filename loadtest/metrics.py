"""What the harness measures, kept so that it merges exactly across Locust workers: latency
HdrHistograms per request name and per route group and interval, counts, and arrival lag.

A worker drains its book (encoded histograms and counters since the last drain) into a message;
the master absorbs every worker's messages into one book. HdrHistogram adds exactly, so the
merged percentiles are those of all samples, not an average of the workers' percentiles."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from loadtest.results_model import (
    GroupFigures,
    Interval,
    IntervalGroup,
    Percentiles,
    RequestFigures,
)

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # an hour: anything slower is clamped, and counted as max
SIGNIFICANT_DIGITS = 3
# Per-interval histograms only draw charts: two digits (1%) take a tenth of the memory, which
# matters when a soak keeps a histogram per route group and interval.
INTERVAL_DIGITS = 2
INTERVAL_SECONDS = 5.0
MAX_INTERVALS = 150  # longer runs get longer intervals: a chart has at most this many points
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}
# The percentile spectrum of the report's latency distribution chart.
SPECTRUM = (0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 97.5, 99.0, 99.5, 99.9, 99.99, 100.0)


def new_histogram(digits: int = SIGNIFICANT_DIGITS) -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, digits)


def interval_for(real_seconds: float) -> float:
    """5 s, or a multiple of it that keeps a run within MAX_INTERVALS intervals."""
    return INTERVAL_SECONDS * max(1, math.ceil(real_seconds / INTERVAL_SECONDS / MAX_INTERVALS))


def record_ms(histogram: HdrHistogram, milliseconds: float) -> None:
    histogram.record_value(min(HIGHEST_US, max(LOWEST_US, round(milliseconds * 1000))))


def percentiles_ms(histogram: HdrHistogram) -> dict[str, float]:
    if histogram.get_total_count() == 0:
        return {**dict.fromkeys(PERCENTILES, 0.0), "max": 0.0}
    # One pass over the histogram for all the percentiles.
    found = histogram.get_percentile_to_value_dict(list(PERCENTILES.values()))
    values = {k: found[p] / 1000 for k, p in PERCENTILES.items()}
    values["max"] = histogram.get_max_value() / 1000
    return {k: round(v, 3) for k, v in values.items()}


def latency_of(histogram: HdrHistogram) -> Percentiles:
    return Percentiles(**percentiles_ms(histogram))


def figures_of(histogram: HdrHistogram) -> GroupFigures:
    """A route group's (or every request's) count, percentiles and distribution."""
    return GroupFigures(
        count=histogram.get_total_count(),
        latency_ms=latency_of(histogram),
        distribution=spectrum_ms(histogram),
    )


def spectrum_ms(histogram: HdrHistogram) -> list[tuple[float, float]]:
    """[percentile, ms] pairs for a distribution chart."""
    if histogram.get_total_count() == 0:
        return []
    found = histogram.get_percentile_to_value_dict(list(SPECTRUM))
    return [(p, round(found[p] / 1000, 3)) for p in SPECTRUM]


def histogram_of(
    table: dict[Any, HdrHistogram], key: Any, digits: int = SIGNIFICANT_DIGITS
) -> HdrHistogram:
    """The table's histogram for `key`, made on first use (not with setdefault: an HdrHistogram
    holds ~23,000 counters, too dear to build and drop on every request)."""
    found = table.get(key)
    if found is None:
        found = table[key] = new_histogram(digits)
    return found


def _absorb_histograms(
    target: dict[Any, HdrHistogram],
    encoded: dict[Any, bytes],
    key: Any = None,
    digits: int = SIGNIFICANT_DIGITS,
) -> None:
    for name, blob in encoded.items():
        histogram = histogram_of(target, key(name) if key else name, digits)
        histogram.decode_and_add(blob)


@dataclass
class RequestCounts:
    count: int = 0
    failures: int = 0


@dataclass(frozen=True)
class WindowGroup:
    count: int
    failures: int
    latency_ms: Percentiles


@dataclass(frozen=True)
class Window:
    """The requests a span of the run completed (a step of a step run), from its intervals."""

    from_s: float
    to_s: float
    offered_rps: float
    achieved_rps: float
    offered: int  # arrivals due
    late: int
    count: int
    failures: int
    error_rate: float
    latency_ms: Percentiles
    groups: dict[str, WindowGroup]


@dataclass
class Book:
    """The measurements of one process (a worker), or of the whole run (the master)."""

    started_at: float = 0.0  # the real instant interval 0 starts at
    interval_seconds: float = INTERVAL_SECONDS
    latency: dict[str, HdrHistogram] = field(default_factory=dict)
    requests: dict[str, RequestCounts] = field(default_factory=dict)
    request_groups: dict[str, str] = field(default_factory=dict)
    groups: dict[tuple[int, str], HdrHistogram] = field(default_factory=dict)
    group_latency: dict[str, HdrHistogram] = field(default_factory=dict)
    lags: dict[int, HdrHistogram] = field(default_factory=dict)  # arrival lag per interval
    interval_counts: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    named: dict[str, HdrHistogram] = field(default_factory=dict)  # business and lag figures
    counters: Counter[str] = field(default_factory=Counter)

    def interval(self, at: float) -> int:
        return max(0, int((at - self.started_at) // self.interval_seconds))

    def request(
        self, name: str, group: str, latency_ms: float, *, ok: bool, error: str | None, at: float
    ) -> None:
        """One request, `latency_ms` measured from its intended start."""
        record_ms(histogram_of(self.latency, name), latency_ms)
        counts = self.requests.setdefault(name, RequestCounts())
        counts.count += 1
        self.request_groups[name] = group
        slot = self.interval(at)
        self.interval_counts[slot]["completed"] += 1
        if not ok:
            counts.failures += 1
            self.interval_counts[slot][f"error:{error or 'failed'}"] += 1
            self.interval_counts[slot][f"fail:{group}"] += 1
        record_ms(histogram_of(self.groups, (slot, group), INTERVAL_DIGITS), latency_ms)
        record_ms(histogram_of(self.group_latency, group), latency_ms)

    def arrival(self, intended: float, started: float, budget_ms: float) -> None:
        lag_ms = max(0.0, (started - intended) * 1000)
        record_ms(histogram_of(self.named, "arrival.lag"), lag_ms)
        record_ms(histogram_of(self.lags, self.interval(intended), INTERVAL_DIGITS), lag_ms)
        self.counters["arrivals.started"] += 1
        if lag_ms > budget_ms:
            self.counters["arrivals.late"] += 1
            self.interval_counts[self.interval(intended)]["late"] += 1
        self.interval_counts[self.interval(intended)]["offered"] += 1
        self.interval_counts[self.interval(started)]["started"] += 1

    def unstarted(self, count: int) -> None:
        self.counters["arrivals.unstarted"] += count

    def observe(self, name: str, value_ms: float) -> None:
        record_ms(histogram_of(self.named, name), value_ms)

    def count(self, name: str, by: int = 1) -> None:
        self.counters[name] += by

    # -- merging -------------------------------------------------------------------------------

    def drain(self) -> dict[str, Any]:
        """Everything recorded since the last drain, encoded for a Locust message; resets."""
        message = {
            "latency": {k: h.encode() for k, h in self.latency.items()},
            "requests": {
                k: [c.count, c.failures, self.request_groups[k]] for k, c in self.requests.items()
            },
            "groups": {f"{slot}|{group}": h.encode() for (slot, group), h in self.groups.items()},
            "group_totals": {k: h.encode() for k, h in self.group_latency.items()},
            "lags": {str(slot): h.encode() for slot, h in self.lags.items()},
            "intervals": {str(k): dict(v) for k, v in self.interval_counts.items()},
            "named": {k: h.encode() for k, h in self.named.items()},
            "counters": dict(self.counters),
        }
        self.latency, self.requests, self.groups, self.named = {}, {}, {}, {}
        self.group_latency, self.lags = {}, {}
        self.interval_counts = defaultdict(Counter)
        self.counters = Counter()
        return message

    def absorb(self, message: dict[str, Any]) -> None:
        _absorb_histograms(self.latency, message["latency"])
        _absorb_histograms(self.named, message["named"])
        _absorb_histograms(self.groups, message["groups"], key=_group_key, digits=INTERVAL_DIGITS)
        _absorb_histograms(self.group_latency, message["group_totals"])
        _absorb_histograms(self.lags, message["lags"], key=int, digits=INTERVAL_DIGITS)
        for name, (count, failures, group) in message["requests"].items():
            counts = self.requests.setdefault(name, RequestCounts())
            counts.count += count
            counts.failures += failures
            self.request_groups[name] = group
        for slot, counts_of_slot in message["intervals"].items():
            self.interval_counts[int(slot)].update(counts_of_slot)
        self.counters.update(message["counters"])

    # -- results -------------------------------------------------------------------------------

    def requests_section(self, real_seconds: float) -> dict[str, RequestFigures]:
        return {
            name: RequestFigures(
                group=self.request_groups[name],
                count=counts.count,
                failures=counts.failures,
                rps=round(counts.count / real_seconds, 3) if real_seconds else 0.0,
                latency_ms=latency_of(self.latency[name]),
            )
            for name, counts in sorted(self.requests.items())
        }

    def groups_section(self) -> dict[str, GroupFigures]:
        return {group: figures_of(h) for group, h in self.group_totals().items()}

    def group_totals(self) -> dict[str, HdrHistogram]:
        return dict(sorted(self.group_latency.items()))

    def all_requests(self) -> HdrHistogram:
        everything = new_histogram()
        for histogram in self.group_latency.values():
            everything.add(histogram)
        return everything

    def window(self, start: float, end: float) -> Window:
        """Requests completed in the real span [start, end), over whole intervals, overall and
        per route group: what a step of a step-to-saturation run is judged on."""
        first, last = self.interval(start), self.interval(end - 1e-6)
        slots = range(first, last + 1)
        everything = new_histogram(INTERVAL_DIGITS)
        per_group: dict[str, HdrHistogram] = {}
        for (slot, group), histogram in self.groups.items():
            if first <= slot <= last:
                everything.add(histogram)
                histogram_of(per_group, group, INTERVAL_DIGITS).add(histogram)
        counts: Counter[str] = Counter()
        for slot in slots:
            counts.update(self.interval_counts.get(slot, Counter()))
        seconds = len(slots) * self.interval_seconds
        completed = counts.get("completed", 0)
        failures = sum(v for k, v in counts.items() if k.startswith("fail:"))
        return Window(
            from_s=round(first * self.interval_seconds, 3),
            to_s=round(first * self.interval_seconds + seconds, 3),
            offered_rps=round(counts.get("offered", 0) / seconds, 3),
            achieved_rps=round(completed / seconds, 3),
            offered=counts.get("offered", 0),
            late=counts.get("late", 0),
            count=completed,
            failures=failures,
            error_rate=round(failures / completed, 6) if completed else 0.0,
            latency_ms=latency_of(everything),
            groups={
                group: WindowGroup(
                    count=h.get_total_count(),
                    failures=counts.get(f"fail:{group}", 0),
                    latency_ms=latency_of(h),
                )
                for group, h in sorted(per_group.items())
            },
        )

    def timeseries(self) -> list[Interval]:
        slots = sorted(set(self.interval_counts) | {slot for slot, _ in self.groups})
        by_slot: dict[int, dict[str, HdrHistogram]] = defaultdict(dict)
        for (slot, group), histogram in sorted(self.groups.items()):
            by_slot[slot][group] = histogram
        seconds = self.interval_seconds
        series = []
        for slot in slots:
            counts = self.interval_counts.get(slot, Counter())
            everything = new_histogram(INTERVAL_DIGITS)
            for histogram in by_slot[slot].values():
                everything.add(histogram)
            lag = self.lags.get(slot)
            series.append(
                Interval(
                    t=round(slot * seconds, 1),
                    seconds=seconds,
                    offered_rps=round(counts.get("offered", 0) / seconds, 3),
                    started_rps=round(counts.get("started", 0) / seconds, 3),
                    achieved_rps=round(counts.get("completed", 0) / seconds, 3),
                    latency_ms=latency_of(everything),
                    lag_ms=latency_of(lag) if lag is not None else None,
                    errors={
                        k.removeprefix("error:"): v
                        for k, v in sorted(counts.items())
                        if k.startswith("error:")
                    },
                    failures={
                        k.removeprefix("fail:"): v
                        for k, v in sorted(counts.items())
                        if k.startswith("fail:")
                    },
                    groups={
                        group: IntervalGroup(count=h.get_total_count(), **percentiles_ms(h))
                        for group, h in by_slot[slot].items()
                    },
                )
            )
        return series


def _group_key(name: str) -> tuple[int, str]:
    slot, group = name.split("|", 1)
    return int(slot), group
