"""The Decision 766 formulas on hand-written counts: each indicator's numerator, denominator,
value and score, the threshold rules, the empty cases, and the totals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.indicators.config import GROUPS, INDICATORS
from app.indicators.scoring import COUNT_FIELDS, Counts, IndicatorResult, indicator, scorecard

BY_ID = {config.id: config for config in INDICATORS}


def result(indicator_id: str, **counts: float) -> IndicatorResult:
    return indicator(BY_ID[indicator_id], Counts(**counts))  # type: ignore[arg-type]


def test_the_groups_weigh_100_points_and_their_indicators_fill_them() -> None:
    assert sum(group.weight for group in GROUPS) == 100
    for group in GROUPS:
        members = [c.max_score for c in INDICATORS if c.group == group.id]
        assert members, group
        assert sum(members) == group.weight


def test_1_4_sync_rate_is_accepted_items_over_reported_items() -> None:
    r = result("1.4", sync_items=40, sync_refused=4)
    assert (r.numerator, r.denominator, r.value) == (36, 40, 0.9)
    assert r.score == pytest.approx(18 * 0.9)


def test_2_1_counts_finished_on_time_and_open_in_time_over_both() -> None:
    r = result("2.1", finished_with_due=6, finished_on_time=5, open_at_end=4, open_in_time=3)
    assert (r.numerator, r.denominator) == (8, 10)
    assert r.value == pytest.approx(0.8)
    assert r.score == pytest.approx(12 * 0.8)


def test_2_2_average_hours_scores_full_within_the_allowed_time() -> None:
    within = result("2.2", finished_with_due=4, processing_hours=100.0, allowed_hours=160.0)
    assert (within.numerator, within.denominator, within.value) == (100.0, 4, 25.0)
    assert within.threshold == 40.0  # the average the law allowed
    assert within.score == 8
    late = result("2.2", finished_with_due=2, processing_hours=120.0, allowed_hours=60.0)
    assert late.value == 60.0
    assert late.score == pytest.approx(8 * 30 / 60)


def test_3_1_full_points_at_80_percent_and_proportional_below() -> None:
    at = result("3.1", procedures=10, procedures_online=8)
    assert (at.value, at.score) == (0.8, 8)
    above = result("3.1", procedures=10, procedures_online=10)
    assert above.score == 8
    below = result("3.1", procedures=10, procedures_online=4)
    assert below.score == pytest.approx(8 * 0.4 / 0.8)


def test_3_3_threshold_50_percent() -> None:
    assert result("3.3", received=10, received_online=5).score == 8
    assert result("3.3", received=10, received_online=7).score == 8
    low = result("3.3", received=10, received_online=2)
    assert (low.numerator, low.denominator, low.value) == (2, 10, 0.2)
    assert low.score == pytest.approx(8 * 0.2 / 0.5)


def test_3_6_counts_only_dossiers_of_fee_bearing_procedures() -> None:
    r = result("3.6", received=100, received_fee_bearing=20, received_paid_online=5)
    assert (r.numerator, r.denominator, r.value) == (5, 20, 0.25)
    assert r.score == pytest.approx(6 * 0.25)
    free = result("3.6", received=100)
    assert (free.value, free.score) == (None, None)
    assert "fee-bearing" in (free.reason or "")


def test_4_1_and_4_2_over_the_results_issued_in_the_period() -> None:
    counts = {"finished_with_result": 10, "result_electronic": 9, "result_digitised": 8}
    e_result = result("4.1", **counts)
    assert (e_result.numerator, e_result.denominator, e_result.value) == (9, 10, 0.9)
    assert e_result.score == pytest.approx(11 * 0.9)
    digitised = result("4.2", **counts)
    assert (digitised.numerator, digitised.denominator, digitised.value) == (8, 10, 0.8)
    assert digitised.score == 11  # full points at the 80% threshold
    half = result("4.2", finished_with_result=10, result_digitised=4)
    assert half.score == pytest.approx(11 * 0.4 / 0.8)


def test_5_4_is_100_percent_minus_overdue_and_complaint_shares() -> None:
    r = result(
        "5.4",
        finished_with_due=8,
        finished_on_time=7,
        open_at_end=2,
        open_in_time=2,  # 1 overdue of 10 judged: 10%
        received=20,
        received_with_complaint=1,  # 5%
    )
    assert r.parts == pytest.approx({"overdue_share": 0.1, "complaint_share": 0.05})
    assert r.value == pytest.approx(0.85)
    assert r.score == pytest.approx(18 * 0.85 / 0.9)
    perfect = result("5.4", finished_with_due=3, finished_on_time=3, received=3)
    assert (perfect.value, perfect.score) == (1.0, 18)
    dire = result(
        "5.4", finished_with_due=2, received=2, received_with_complaint=2
    )  # all overdue, all complained about: never below 0
    assert (dire.value, dire.score) == (0.0, 0.0)


@pytest.mark.parametrize("indicator_id", [c.id for c in INDICATORS])
def test_an_empty_denominator_gives_null_with_a_reason(indicator_id: str) -> None:
    r = result(indicator_id)
    assert (r.value, r.score) == (None, None)
    assert r.reason


def test_groups_sum_the_scores_of_what_could_be_computed() -> None:
    card = scorecard(Counts(received=10, received_online=10, procedures=5, procedures_online=5))
    groups = {g.config.id: g for g in card.groups}
    assert (groups["3"].score, groups["3"].max_score) == (16, 16)  # 3.1 and 3.3; 3.6 is null
    assert (groups["4"].score, groups["4"].max_score) == (0, 0)
    assert card.total_score == 16 + groups["5"].score
    assert card.total_max_score == sum(g.max_score for g in card.groups)


counts_strategy = st.builds(
    Counts,
    **{
        name: st.floats(0, 1e6) if name.endswith("hours") else st.integers(0, 10_000)
        for name in COUNT_FIELDS
    },
)


@given(counts_strategy)
def test_scores_stay_within_their_maxima(counts: Counts) -> None:
    # Consistent counts: parts never exceed their wholes.
    counts.received_online = min(counts.received_online, counts.received)
    counts.received_fee_bearing = min(counts.received_fee_bearing, counts.received)
    counts.received_paid_online = min(counts.received_paid_online, counts.received_fee_bearing)
    counts.received_with_complaint = min(counts.received_with_complaint, counts.received)
    counts.finished_on_time = min(counts.finished_on_time, counts.finished_with_due)
    counts.open_in_time = min(counts.open_in_time, counts.open_at_end)
    counts.result_electronic = min(counts.result_electronic, counts.finished_with_result)
    counts.result_digitised = min(counts.result_digitised, counts.result_electronic)
    counts.sync_refused = min(counts.sync_refused, counts.sync_items)
    counts.procedures_online = min(counts.procedures_online, counts.procedures)
    card = scorecard(counts)
    for r in card.indicators:
        if r.score is not None:
            assert 0 <= r.score <= r.config.max_score + 1e-9, r
        if r.value is not None and r.config.unit == "share":
            assert 0 <= r.value <= 1, r
    assert 0 <= card.total_score <= card.total_max_score + 1e-6 <= 100 + 1e-6
