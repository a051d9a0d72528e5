"""The M/M/c theory behind the harness's queueing check: Erlang B and C against the closed form
and published table values, the sojourn-time tail against harness.md's formula and its limits,
and the on-time share against a small discrete-event simulation."""

from __future__ import annotations

import heapq
import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadtest.model.queueing import MMc, batch_means_error, erlang_b, erlang_c, sampling_error

# --- independent references ------------------------------------------------------------------


def closed_form_erlang_b(c: int, a: float) -> float:
    """B(c, a) = (a^c / c!) / Σ_{k=0..c} a^k / k!"""
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[c] / math.fsum(terms)


def closed_form_erlang_c(c: int, a: float) -> float:
    """C(c, a) = (a^c / c! · c/(c − a)) / (Σ_{k=0..c−1} a^k / k! + a^c / c! · c/(c − a))"""
    waiting = a**c / math.factorial(c) * c / (c - a)
    return waiting / (math.fsum(a**k / math.factorial(k) for k in range(c)) + waiting)


def literal_sojourn_tail(q: MMc, t: float) -> float:
    """harness.md's formula, typed in as written (θ ≠ μ)."""
    mu = 1 / q.service_mean
    theta = q.servers * mu - q.arrival_rate
    c_wait = closed_form_erlang_c(q.servers, q.arrival_rate * q.service_mean)
    return (1 - c_wait) * math.exp(-mu * t) + c_wait * (
        theta * math.exp(-mu * t) - mu * math.exp(-theta * t)
    ) / (theta - mu)


def simulate_on_time(
    q: MMc, deadline: float, customers: int, warm_up: int, seed: int
) -> tuple[float, float]:
    """FCFS M/M/c by discrete events: (on-time share, mean sojourn) after a warm-up.

    Each arrival takes the server that frees first (a heap of the c free-at times), which is
    FCFS on c identical servers.
    """
    rng = random.Random(seed)
    service_rate = 1 / q.service_mean
    free_at = [0.0] * q.servers
    now = 0.0
    counted = on_time = 0
    total_sojourn = 0.0
    for i in range(customers):
        now += rng.expovariate(q.arrival_rate)
        start = max(now, free_at[0])
        done = start + rng.expovariate(service_rate)
        heapq.heapreplace(free_at, done)
        if i >= warm_up:
            counted += 1
            total_sojourn += done - now
            if done - now <= deadline:
                on_time += 1
    return on_time / counted, total_sojourn / counted


# --- Erlang B and C --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("c", "a", "expected"),
    [
        (1, 0.5, 0.5 / 1.5),  # B(1, a) = a / (1 + a)
        (2, 1.0, 0.2),  # (1/2) / (1 + 1 + 1/2)
        (5, 2.0, 0.0367),  # Erlang B table: 5 circuits, 2 E
        (10, 5.0, 0.0184),  # Erlang B table: 10 circuits, 5 E
    ],
)
def test_erlang_b_table_values(c: int, a: float, expected: float) -> None:
    assert closed_form_erlang_b(c, a) == pytest.approx(expected, abs=5e-5)
    assert erlang_b(c, a) == pytest.approx(expected, abs=5e-5)


@pytest.mark.parametrize(
    ("c", "a", "expected"),
    [
        (1, 0.7, 0.7),  # M/M/1: P(wait) = rho
        (2, 1.0, 1 / 3),
        (3, 2.0, 4 / 9),
        (4, 2.4, 0.2870),  # harness.md's configuration
        (5, 3.0, 0.2362),
        (10, 8.0, 0.4092),  # the textbook call-centre example
    ],
)
def test_erlang_c_table_values(c: int, a: float, expected: float) -> None:
    assert closed_form_erlang_c(c, a) == pytest.approx(expected, abs=5e-5)
    assert erlang_c(c, a) == pytest.approx(expected, abs=5e-5)


@given(c=st.integers(min_value=1, max_value=60), share=st.floats(min_value=0.0, max_value=0.99))
def test_erlang_c_matches_closed_form(c: int, share: float) -> None:
    a = share * c
    assert erlang_b(c, a) == pytest.approx(closed_form_erlang_b(c, a), rel=1e-9, abs=1e-300)
    assert erlang_c(c, a) == pytest.approx(closed_form_erlang_c(c, a), rel=1e-9, abs=1e-300)


def test_erlang_stable_for_many_servers() -> None:
    """The recurrence never forms a^c or c!, which overflow floats from c = 171 on."""
    b = erlang_b(2000, 1900.0)
    c_wait = erlang_c(2000, 1900.0)
    assert 0 < b < c_wait < 1
    assert erlang_c(2000, 0.0) == 0.0


# --- the sojourn-time tail -------------------------------------------------------------------


def test_harness_check_configuration() -> None:
    """harness.md: λ 1.2, μ 0.5, c 4, D 6 gives 0.9303 (0.9298 measured over 400,000)."""
    q = MMc(arrival_rate=1.2, service_mean=2.0, servers=4)
    assert q.offered_load == pytest.approx(2.4)
    assert q.utilisation == pytest.approx(0.6)
    assert q.on_time_share(6.0) == pytest.approx(0.930, abs=0.002)
    assert 0.9298 <= round(q.on_time_share(6.0), 4) <= 0.9303


@pytest.mark.parametrize(
    ("arrival_rate", "service_mean", "servers"),
    [(1.2, 2.0, 4), (0.3, 1.0, 1), (9.0, 2.0, 20), (1.99, 1.0, 2), (0.01, 3.0, 7)],
)
@pytest.mark.parametrize("t", [0.0, 0.1, 1.0, 6.0, 25.0])
def test_sojourn_tail_is_harness_formula(
    arrival_rate: float, service_mean: float, servers: int, t: float
) -> None:
    q = MMc(arrival_rate, service_mean, servers)
    assert q.sojourn_tail(t) == pytest.approx(literal_sojourn_tail(q, t), rel=1e-10, abs=1e-15)


def test_theta_equal_to_mu_is_the_limit() -> None:
    # θ = cμ − λ = μ when λ = (c − 1)μ: c 4, μ 0.5, λ 1.5 (exact in binary).
    q = MMc(arrival_rate=1.5, service_mean=2.0, servers=4)
    mu = q.service_rate
    assert q.servers * mu - q.arrival_rate == mu
    c_wait = q.wait_probability
    for t in (0.5, 3.0, 10.0, 40.0):
        limit = (1 - c_wait) * math.exp(-mu * t) + c_wait * (1 + mu * t) * math.exp(-mu * t)
        assert q.sojourn_tail(t) == pytest.approx(limit, rel=1e-12)
        for step in (1e-12, 1e-9, 1e-6):
            for nearby in (1.5 - step, 1.5 + step):
                assert MMc(nearby, 2.0, 4).sojourn_tail(t) == pytest.approx(
                    q.sojourn_tail(t), abs=20 * step
                )
        # Close enough to show continuity, far enough for the literal formula to be exact.
        near = MMc(1.5 + 1e-3, 2.0, 4)
        assert near.sojourn_tail(t) == pytest.approx(literal_sojourn_tail(near, t), rel=1e-9)
        assert near.sojourn_tail(t) == pytest.approx(limit, abs=1e-2)


@pytest.mark.parametrize(
    ("arrival_rate", "service_mean", "servers"), [(1.2, 2.0, 4), (0.1, 0.5, 1)]
)
def test_sojourn_tail_at_zero_and_infinity(
    arrival_rate: float, service_mean: float, servers: int
) -> None:
    q = MMc(arrival_rate, service_mean, servers)
    assert q.sojourn_tail(0.0) == 1.0
    assert q.on_time_share(0.0) == 0.0
    assert q.sojourn_tail(math.inf) == 0.0
    assert q.on_time_share(math.inf) == 1.0


mmc_queues = st.builds(
    lambda rho, service_mean, servers: MMc(rho * servers / service_mean, service_mean, servers),
    rho=st.floats(min_value=0.01, max_value=0.99),
    service_mean=st.floats(min_value=0.05, max_value=20.0),
    servers=st.integers(min_value=1, max_value=30),
)
hours = st.floats(min_value=0.0, max_value=500.0)


@given(q=mmc_queues, t1=hours, t2=hours)
def test_sojourn_tail_is_monotone_decreasing(q: MMc, t1: float, t2: float) -> None:
    early, late = min(t1, t2), max(t1, t2)
    tail_early, tail_late = q.sojourn_tail(early), q.sojourn_tail(late)
    assert 0.0 <= tail_late <= tail_early + 1e-12
    assert tail_early <= 1.0


@given(
    service_rate=st.floats(min_value=0.01, max_value=100.0),
    rho=st.floats(min_value=0.001, max_value=0.999),
    t=hours,
)
def test_mm1_sojourn_is_exponential(service_rate: float, rho: float, t: float) -> None:
    """With one server, T is exponential with rate μ − λ."""
    arrival_rate = rho * service_rate
    q = MMc(arrival_rate, 1 / service_rate, 1)
    assert q.wait_probability == pytest.approx(q.utilisation, rel=1e-12)
    expected = math.exp(-(service_rate - arrival_rate) * t)
    assert q.sojourn_tail(t) == pytest.approx(expected, rel=1e-9, abs=1e-300)
    assert q.mean_sojourn() == pytest.approx(1 / (service_rate - arrival_rate), rel=1e-9)
    assert q.mean_wait() == pytest.approx(rho / (service_rate - arrival_rate), rel=1e-9)


def test_means() -> None:
    q = MMc(arrival_rate=1.2, service_mean=2.0, servers=4)
    c_wait = closed_form_erlang_c(4, 2.4)
    assert q.wait_probability == pytest.approx(c_wait, rel=1e-12)
    assert q.mean_wait() == pytest.approx(c_wait / (4 * 0.5 - 1.2), rel=1e-12)
    assert q.mean_sojourn() == pytest.approx(q.mean_wait() + 2.0, rel=1e-12)


# --- against a simulation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "deadline"),
    [
        # harness.md's configuration, rho 0.6.
        (MMc(arrival_rate=1.2, service_mean=2.0, servers=4), 6.0),
        # rho 0.9. On 4 servers the simulated share over 200,000 customers wanders by about
        # ±0.01 (one standard deviation, queue correlation), too much for this tolerance; on
        # 20 servers it is about ±0.004.
        (MMc(arrival_rate=9.0, service_mean=2.0, servers=20), 6.0),
    ],
    ids=["rho0.6-c4", "rho0.9-c20"],
)
def test_on_time_share_matches_simulation(q: MMc, deadline: float) -> None:
    simulated_share, simulated_mean = simulate_on_time(
        q, deadline, customers=200_000, warm_up=20_000, seed=20260303
    )
    assert simulated_share == pytest.approx(q.on_time_share(deadline), abs=0.01)
    assert simulated_mean == pytest.approx(q.mean_sojourn(), rel=0.06)


# --- sampling error --------------------------------------------------------------------------


def test_sampling_error() -> None:
    assert sampling_error(0.9, 2000) == pytest.approx(1.96 * math.sqrt(0.09 / 2000))
    assert sampling_error(0.9, 2000) == pytest.approx(0.0131, abs=1e-4)
    assert sampling_error(0.5, 10_000) == pytest.approx(0.0098)
    assert sampling_error(1.0, 50) == 0.0
    assert sampling_error(0.0, 1) == 0.0


def test_batch_means_error_measures_the_spread_between_stretches_of_a_run() -> None:
    # A steady share has no error; too few outcomes for ten batches of two have none to give.
    assert batch_means_error([True, False] * 50) == 0.0
    assert batch_means_error([True] * 19) is None
    # Five stretches all on time, five all late: the share 0.5 is known to within +-0.38.
    stretches = ([True] * 10 + [False] * 10) * 5
    assert batch_means_error(stretches) == pytest.approx(2.262 * math.sqrt(0.25 * 10 / 9) / 10**0.5)


@given(st.lists(st.booleans(), min_size=20, max_size=400))
def test_batch_means_error_is_a_share_and_ignores_which_side_is_on_time(
    outcomes: list[bool],
) -> None:
    error = batch_means_error(outcomes)
    assert error is not None
    # Ten shares in [0, 1] spread at most as five 0s and five 1s do (sd 0.527).
    assert 0 <= error <= 2.262 * 0.528 / math.sqrt(10)
    assert batch_means_error([not ok for ok in outcomes]) == pytest.approx(error)


# --- bad inputs ------------------------------------------------------------------------------


def test_erlang_c_rejects_unstable_load() -> None:
    with pytest.raises(ValueError, match=r"rho = 1 >= 1.*grows without bound"):
        erlang_c(2, 2.0)
    with pytest.raises(ValueError, match=r"rho = 1\.05 >= 1.*grows without bound"):
        erlang_c(4, 4.2)


@pytest.mark.parametrize(("c", "a"), [(0, 0.5), (-1, 0.5), (2, -0.1), (2, math.nan), (2, math.inf)])
def test_erlang_rejects_bad_arguments(c: int, a: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        erlang_b(c, a)
    with pytest.raises(ValueError, match="must be"):
        erlang_c(c, a)


def test_erlang_rejects_non_integer_servers() -> None:
    with pytest.raises(ValueError, match="integer"):
        erlang_c(2.5, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="integer"):
        MMc(1.0, 1.0, 2.0)  # type: ignore[arg-type]


def test_mmc_rejects_unstable_queue() -> None:
    with pytest.raises(ValueError, match=r"utilisation rho = 1\.05 >= 1.*grows without bound"):
        MMc(arrival_rate=2.1, service_mean=2.0, servers=4)
    with pytest.raises(ValueError, match=r"rho = 1 >= 1"):
        MMc(arrival_rate=2.0, service_mean=2.0, servers=4)


@pytest.mark.parametrize(
    ("arrival_rate", "service_mean", "servers", "message"),
    [
        (0.0, 2.0, 4, "arrival_rate"),
        (-1.0, 2.0, 4, "arrival_rate"),
        (math.nan, 2.0, 4, "arrival_rate"),
        (1.0, 0.0, 4, "service_mean"),
        (1.0, -2.0, 4, "service_mean"),
        (1.0, math.inf, 4, "service_mean"),
        (1.0, 2.0, 0, "servers"),
    ],
)
def test_mmc_rejects_bad_parameters(
    arrival_rate: float, service_mean: float, servers: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        MMc(arrival_rate, service_mean, servers)


@pytest.mark.parametrize("t", [-1.0, -1e-9, math.nan])
def test_sojourn_tail_rejects_bad_times(t: float) -> None:
    q = MMc(arrival_rate=1.2, service_mean=2.0, servers=4)
    with pytest.raises(ValueError, match="t must be"):
        q.sojourn_tail(t)
    with pytest.raises(ValueError, match="t must be"):
        q.on_time_share(t)


@pytest.mark.parametrize(("share", "n"), [(-0.1, 10), (1.1, 10), (math.nan, 10), (0.5, 0)])
def test_sampling_error_rejects_bad_arguments(share: float, n: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        sampling_error(share, n)
