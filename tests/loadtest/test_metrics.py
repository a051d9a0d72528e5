"""The book of measurements merges exactly across workers: the master's percentiles, counts and
per-interval figures are those of all samples, whichever worker recorded them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadtest.metrics import (
    HIGHEST_US,
    INTERVAL_SECONDS,
    MAX_INTERVALS,
    Book,
    interval_for,
    new_histogram,
    percentiles_ms,
    record_ms,
)

# Ordinary latencies, zero included; one past the one-hour clamp now and then (HdrHistogram's
# percentile look-up walks its buckets in Python, so huge values everywhere would be slow).
latencies = st.floats(0, 5000, allow_nan=False, allow_infinity=False)
NAMES = ("GET /api/v1/procedures", "POST /api/v1/dossiers")
GROUPS = ("catalogue", "citizen")


def record(book: Book, index: int, latency: float, *, started_at: float = 1000.0) -> None:
    """The index-th sample of a stream: its name, group, outcome and instant follow from it."""
    ok = index % 5 != 0
    book.request(
        NAMES[index % 2],
        GROUPS[index % 2],
        latency,
        ok=ok,
        error=None if ok else ("500" if index % 3 else None),
        at=started_at + index * 0.05,
    )


def summary(book: Book) -> dict[str, object]:
    return {
        "requests": book.requests_section(60.0),
        "groups": {
            g: (h.get_total_count(), percentiles_ms(h)) for g, h in book.group_totals().items()
        },
        "timeseries": book.timeseries(),
        "named": {k: (h.get_total_count(), percentiles_ms(h)) for k, h in book.named.items()},
        "counters": dict(book.counters),
    }


@settings(max_examples=30, deadline=None)
@given(values=st.lists(latencies, max_size=150), clamped=st.booleans(), split=st.data())
def test_merging_two_workers_equals_one_book_of_every_sample(
    values: list[float], clamped: bool, split: st.DataObject
) -> None:
    values = [*values, 4e6] if clamped else values
    where = split.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    single, first, second = Book(1000.0), Book(1000.0), Book(1000.0)
    for index, (latency, on_first) in enumerate(zip(values, where, strict=True)):
        record(single, index, latency)
        record(first if on_first else second, index, latency)
        budget = 250.0
        for book in (single, first if on_first else second):
            book.arrival(1000.0 + index, 1000.0 + index + latency / 1000, budget)
            book.observe("payment.confirmation", latency)
            book.count("payments.created")
    master = Book(1000.0)
    master.absorb(first.drain())
    master.absorb(second.drain())
    assert summary(master) == summary(single)
    for name in single.latency:
        assert master.latency[name].get_total_count() == single.latency[name].get_total_count()
        assert master.latency[name].get_min_value() == single.latency[name].get_min_value()
        assert master.latency[name].get_max_value() == single.latency[name].get_max_value()


def test_merged_counts_and_failures_add_up() -> None:
    first, second, master = Book(0.0), Book(0.0), Book(0.0)
    for index in range(10):
        first.request("GET /a", "catalogue", 10.0, ok=index != 0, error="500", at=1.0)
    for _ in range(5):
        second.request("GET /a", "catalogue", 30.0, ok=False, error="timeout", at=6.0)
    second.request("GET /b", "citizen", 5.0, ok=True, error=None, at=6.0)
    master.absorb(first.drain())
    master.absorb(second.drain())
    section = master.requests_section(10.0)
    assert section["GET /a"].count == 15
    assert section["GET /a"].failures == 6
    assert section["GET /a"].rps == 1.5
    assert section["GET /b"].count == 1
    # 10 of 15 samples took 10 ms: the median is 10 ms (to HdrHistogram's precision).
    assert section["GET /a"].latency_ms.p50 == pytest.approx(10.0, rel=1e-3)
    assert section["GET /a"].latency_ms.max == pytest.approx(30.0, rel=1e-3)
    series = {slot.t: slot for slot in master.timeseries()}
    assert series[0.0].errors == {"500": 1}
    assert series[5.0].errors == {"timeout": 5}
    assert series[5.0].groups["catalogue"].count == 5
    assert series[5.0].groups["citizen"].count == 1


def test_per_interval_group_histograms_merge_slot_by_slot() -> None:
    first, second, single, master = Book(0.0), Book(0.0), Book(0.0), Book(0.0)
    samples = [(0.5, 10.0), (1.0, 20.0), (7.0, 300.0), (7.5, 400.0), (12.0, 1.0)]
    for index, (at, latency) in enumerate(samples):
        target = first if index % 2 else second
        for book in (target, single):
            book.request("GET /x", "catalogue", latency, ok=True, error=None, at=at)
    master.absorb(first.drain())
    master.absorb(second.drain())
    assert sorted(master.groups) == [(0, "catalogue"), (1, "catalogue"), (2, "catalogue")]
    for key, histogram in single.groups.items():
        assert master.groups[key].get_total_count() == histogram.get_total_count()
        assert percentiles_ms(master.groups[key]) == percentiles_ms(histogram)
    assert master.timeseries() == single.timeseries()


def test_drain_resets_the_book() -> None:
    book = Book(0.0)
    book.request("GET /x", "catalogue", 12.0, ok=False, error="500", at=1.0)
    book.arrival(1.0, 3.0, 1000.0)
    book.observe("sync.lag", 5.0)
    book.count("sync.items", 3)
    message = book.drain()
    assert message["requests"] == {"GET /x": [1, 1, "catalogue"]}
    assert message["counters"]["sync.items"] == 3
    again = book.drain()
    assert again == {
        "latency": {},
        "requests": {},
        "groups": {},
        "group_totals": {},
        "lags": {},
        "intervals": {},
        "named": {},
        "counters": {},
    }
    assert book.timeseries() == []
    # The second drain adds nothing: a drain never repeats what an earlier one sent.
    master = Book(0.0)
    master.absorb(message)
    master.absorb(again)
    assert master.requests_section(1.0)["GET /x"].count == 1
    assert master.counters["sync.items"] == 3


def test_timeseries_has_offered_started_and_achieved_rates() -> None:
    book = Book(100.0)
    # Ten arrivals intended in the first interval; four of them start only in the second.
    for index in range(10):
        intended = 100.0 + index * 0.4
        started = intended if index < 6 else 100.0 + INTERVAL_SECONDS + 1.0
        book.arrival(intended, started, 1000.0)
    for index in range(3):
        book.request("GET /x", "catalogue", 50.0, ok=True, error=None, at=106.0 + index)
    first, second = book.timeseries()
    assert first.t == 0.0
    assert second.t == INTERVAL_SECONDS
    assert first.seconds == INTERVAL_SECONDS
    assert first.offered_rps == 10 / INTERVAL_SECONDS
    assert first.started_rps == 6 / INTERVAL_SECONDS
    assert first.achieved_rps == 0.0
    assert second.offered_rps == 0.0
    assert second.started_rps == 4 / INTERVAL_SECONDS
    assert second.achieved_rps == 3 / INTERVAL_SECONDS
    # Charts over time are drawn from two-digit histograms: within 1%.
    assert second.latency_ms.p50 == pytest.approx(50.0, rel=1e-2)
    assert first.latency_ms.max == 0.0
    assert first.lag_ms is not None
    assert first.lag_ms.max == pytest.approx((INTERVAL_SECONDS + 1.0 - 6 * 0.4) * 1000, rel=1e-2)
    assert second.lag_ms is None  # nothing was intended in the second interval


def test_failures_are_kept_per_group_and_interval_and_judged_per_window() -> None:
    book = Book(0.0)
    for index in range(10):
        book.request("POST /d", "submit", 20.0, ok=index != 0, error="http 503", at=1.0)
        book.request("GET /p", "catalogue", 5.0, ok=True, error=None, at=7.0)
    first, second = book.timeseries()
    assert first.failures == {"submit": 1}
    assert second.failures == {}
    assert first.errors == {"http 503": 1}
    step = book.window(0.0, 10.0)
    assert step.count == 20
    assert step.failures == 1
    assert step.error_rate == pytest.approx(0.05)
    assert step.achieved_rps == pytest.approx(2.0)
    only_second = book.window(5.0, 10.0)
    assert only_second.failures == 0
    assert only_second.latency_ms.max == pytest.approx(5.0, rel=1e-2)


def test_all_requests_merge_every_group_exactly() -> None:
    book = Book(0.0)
    for value in range(1, 101):
        book.request("GET /a", "a" if value % 2 else "b", float(value), ok=True, error=None, at=0)
    assert book.all_requests().get_total_count() == 100
    assert percentiles_ms(book.all_requests())["p50"] == pytest.approx(50.0, rel=1e-3)
    assert book.requests_section(1.0)["GET /a"].group == "b"


def test_long_runs_get_longer_intervals() -> None:
    assert interval_for(120) == INTERVAL_SECONDS
    assert interval_for(MAX_INTERVALS * INTERVAL_SECONDS) == INTERVAL_SECONDS
    assert interval_for(3600) == 25.0
    assert 3600 / interval_for(3600) <= MAX_INTERVALS


def test_arrival_counts_late_arrivals_past_the_budget() -> None:
    book = Book(0.0)
    book.arrival(10.0, 10.0, 1000.0)  # on time
    book.arrival(10.0, 10.999, 1000.0)  # just inside the budget
    book.arrival(10.0, 11.5, 1000.0)  # late
    book.arrival(10.0, 9.0, 1000.0)  # early start: no negative lag
    book.arrival(10.0, 40.0, 1000.0)  # very late
    book.unstarted(2)
    assert book.counters["arrivals.started"] == 5
    assert book.counters["arrivals.late"] == 2
    assert book.counters["arrivals.unstarted"] == 2
    lag = percentiles_ms(book.named["arrival.lag"])
    assert lag["max"] == pytest.approx(30_000.0, rel=1e-3)
    assert book.named["arrival.lag"].get_total_count() == 5


def test_latencies_are_clamped_not_lost() -> None:
    histogram = new_histogram()
    record_ms(histogram, 0.0)
    record_ms(histogram, 10 * HIGHEST_US)  # far past an hour
    assert histogram.get_total_count() == 2
    assert percentiles_ms(histogram)["max"] == pytest.approx(HIGHEST_US / 1000, rel=1e-3)
    assert percentiles_ms(new_histogram()) == {
        "p50": 0.0,
        "p90": 0.0,
        "p95": 0.0,
        "p99": 0.0,
        "p999": 0.0,
        "max": 0.0,
    }


@given(values=st.lists(st.floats(0.001, 2e4, allow_nan=False), min_size=1, max_size=200))
def test_percentiles_are_ordered_and_within_precision(values: list[float]) -> None:
    histogram = new_histogram()
    for value in values:
        record_ms(histogram, value)
    found = percentiles_ms(histogram)
    ordered = [found[k] for k in ("p50", "p90", "p95", "p99", "p999", "max")]
    assert ordered == sorted(ordered)
    # Three significant digits, and the microsecond rounding of record_ms.
    assert found["max"] == pytest.approx(max(values), rel=2e-3, abs=2e-3)
