"""Staffing (loadtest/model/staffing.py): the offline simulation of a back office agrees with
Erlang C where harness.md's M/M/c conditions hold, and the recommended count behaves as a count of
officers must."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.config import Settings
from loadtest.model.queueing import MMc
from loadtest.model.staffing import Office, calendar_for, recommend
from loadtest.model.workload import BackofficeSection, QueueingSection, Workload
from loadtest.model.world import Agency, Procedure, Timeline, World


def mmc_office(rate: float, mean: float, officers: int, deadline: int) -> Office:
    """One agency of an M/M/c workload: one procedure of `deadline` working hours. The inbox is
    polled every minute, so that acceptance follows arrival as harness.md's formula assumes."""
    workload = Workload(
        queueing=QueueingSection(
            agencies=1,
            deadline_hours=deadline,
            arrivals_per_hour=rate,
            officers=officers,
            service_mean_hours=mean,
        ),
        backoffice=BackofficeSection(inbox_poll_minutes=1),
    )
    procedure = Procedure(
        code="1.000001",
        name="Thủ tục thử",
        level="commune",
        field="F1",
        legal_hours=float(deadline),
        processing_time=deadline,
        processing_unit="working_hour",
        fees_total=0,
        online_level="full",
    )
    agency = Agency(
        code="000.01.01.H01",
        name="UBND xã thử",
        level="commune",
        province_code=1,
        procedures=[procedure.code],
        weights=[1.0],
        online_per_day=rate * 8,
        counter_per_day=0.0,
        officers=officers,
    )
    world = World(
        seed=7,
        salt="TEST",
        scale=1.0,
        timeline=Timeline(0.0, 0.0, 1.0, 0.0, 1.0),
        procedures={procedure.code: procedure},
        agencies=[agency],
    )
    return Office(workload, calendar_for(workload, Settings()), world, agency, {})


@pytest.mark.parametrize(
    ("rate", "mean", "officers", "deadline"),
    [
        (1.2, 2.0, 4, 4),  # rho 0.6 (loadtest/workloads/mmc-rho06.toml)
        (1.8, 2.0, 4, 8),  # rho 0.9, a working day's deadline
        (0.5, 1.0, 1, 2),  # one officer, rho 0.5
        (3.0, 1.0, 4, 3),  # rho 0.75
        (6.0, 1.0, 8, 1),  # a deadline shorter than a quarter of the mean wait's tail
    ],
)
def test_the_simulated_share_agrees_with_erlang_c(
    rate: float, mean: float, officers: int, deadline: int
) -> None:
    office = mmc_office(rate, mean, officers, deadline)
    simulated = office.share(officers)
    while simulated.error > 0.02 and office.refine():  # a longer span, as the tool would
        simulated = office.share(officers)
    exact = MMc(rate, mean, officers).on_time_share(deadline)
    assert abs(simulated.value - exact) <= simulated.error, (simulated, exact)


def test_an_mmc_recommendation_is_erlang_cs_count_with_the_simulation_beside_it() -> None:
    office = mmc_office(1.8, 2.0, 4, 8)
    result = recommend(office, 0.95)
    exact = {c: MMc(1.8, 2.0, c).on_time_share(8) for c in range(4, 12)}
    assert result.recommended == min(c for c, share in exact.items() if share >= 0.95)
    assert result.firm
    assert result.at_recommended is not None
    assert result.recommended is not None
    assert result.erlang[result.recommended] == pytest.approx(exact[result.recommended])
    gap = abs(result.at_recommended.value - exact[result.recommended])
    assert gap <= result.at_recommended.error
    # Today's staffing (4 officers) misses 95%.
    assert exact[4] < 0.95
    assert abs(result.current.value - exact[4]) <= result.current.error


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rate=st.floats(2.0, 8.0),
    more=st.floats(0.0, 4.0),
    target=st.floats(0.5, 0.99),
    higher=st.floats(0.0, 0.5),
    deadline=st.integers(1, 16),
)
def test_the_count_never_falls_as_arrivals_or_the_target_rise(
    rate: float, more: float, target: float, higher: float, deadline: int
) -> None:
    raised = min(0.995, target + higher)
    base = recommend(mmc_office(rate, 1.0, 1, deadline), target).recommended
    busier = recommend(mmc_office(rate + more, 1.0, 1, deadline), target).recommended
    stricter = recommend(mmc_office(rate, 1.0, 1, deadline), raised).recommended

    # None: no staffing reaches the target (the deadline is too short for the work itself).
    def count(found: int | None) -> float:
        return math.inf if found is None else found

    assert count(busier) >= count(base)
    assert count(stricter) >= count(base)
