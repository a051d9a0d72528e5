"""M/M/c theory for the harness's queueing check.

For the simplest configuration (one procedure, flat Poisson arrivals, c officers, exponential
service, no supplements or fees; see shared/harness.md, "Checking the simulation against
theory") the back office is an M/M/c queue in working-time coordinates, and the on-time share
is known in closed form. results.json carries that prediction beside the measured on-time share,
with the sampling error of the measurement, so that a disagreement points at a harness bug.

Times are in working hours, rates per working hour.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MMc", "batch_means_error", "erlang_b", "erlang_c", "sampling_error"]

Z_95 = 1.96
"""Two-sided 95% normal quantile used by `sampling_error`."""

BATCHES = 10
T_95_9 = 2.262
"""Two-sided 95% quantile of Student's t with 9 degrees of freedom (`BATCHES` - 1)."""


def _check_servers(c: int) -> None:
    if isinstance(c, bool) or not isinstance(c, int):
        raise ValueError(f"number of servers c must be an integer, got {c!r}")
    if c < 1:
        raise ValueError(f"number of servers c must be at least 1, got {c}")


def _check_load(a: float) -> None:
    if not math.isfinite(a) or a < 0:
        raise ValueError(f"offered load a = λ/μ must be a finite number >= 0, got {a!r}")


def erlang_b(c: int, a: float) -> float:
    """Erlang B: the blocking probability of an M/M/c/c loss system with offered load a.

    Uses the recurrence B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)), which stays in [0, 1] and
    never forms a^c or c!, so it is stable for any c.
    """
    _check_servers(c)
    _check_load(a)
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Erlang C: the probability that an arrival to an M/M/c queue has to wait.

    a = λ/μ is the offered load; the queue is stable only when rho = a/c < 1.
    Computed from Erlang B as C = c·B / (c − a·(1 − B)).
    """
    _check_servers(c)
    _check_load(a)
    rho = a / c
    if rho >= 1:
        raise ValueError(
            f"utilisation rho = {rho:.4g} >= 1 (offered load a = {a:g} on c = {c} servers): "
            "the queue grows without bound"
        )
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def _positive(name: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


@dataclass(frozen=True)
class MMc:
    """An M/M/c queue: Poisson arrivals, exponential service, c servers, FCFS, infinite room.

    arrival_rate is λ (arrivals per working hour), service_mean is 1/μ (working hours per
    service), servers is c. Construction fails unless rho = λ/(cμ) < 1.
    """

    arrival_rate: float
    service_mean: float
    servers: int

    def __post_init__(self) -> None:
        _positive("arrival_rate λ", self.arrival_rate)
        _positive("service_mean 1/μ", self.service_mean)
        _check_servers(self.servers)
        rho = self.utilisation
        if rho >= 1:
            raise ValueError(
                f"utilisation rho = {rho:.4g} >= 1 (λ = {self.arrival_rate:g} per hour, "
                f"1/μ = {self.service_mean:g} hours, c = {self.servers} servers): "
                "the queue grows without bound"
            )

    @property
    def service_rate(self) -> float:
        """μ, services per working hour per server."""
        return 1.0 / self.service_mean

    @property
    def offered_load(self) -> float:
        """a = λ/μ, in erlangs: the mean number of busy servers."""
        return self.arrival_rate * self.service_mean

    @property
    def utilisation(self) -> float:
        """rho = a/c, the share of time each server is busy."""
        return self.offered_load / self.servers

    @property
    def wait_probability(self) -> float:
        """C = Erlang C(c, a), the probability that an arrival waits for a server."""
        return erlang_c(self.servers, self.offered_load)

    def sojourn_tail(self, t: float) -> float:
        """P(T > t) for the sojourn time T (wait plus service), t in working hours.

        harness.md's formula, with θ = cμ − λ:
            P(T > t) = (1 − C)·e^(−μt) + C·(θ·e^(−μt) − μ·e^(−θt)) / (θ − μ)   (θ ≠ μ)
        and its limit (1 − C)·e^(−μt) + C·(1 + μt)·e^(−μt) when θ = μ.

        It is evaluated in the algebraically identical form
            P(T > t) = e^(−μt) + C·μ·(e^(−θt) − e^(−μt)) / (μ − θ),
        whose divided difference is computed as e^(−lo·t)·(1 − e^(−(hi − lo)·t)) / (hi − lo)
        with lo, hi = min, max of (μ, θ), using expm1. That has no cancellation as θ → μ (it
        tends to t·e^(−μt), giving the limit above exactly at θ = μ) and no overflow for large t.
        """
        if math.isnan(t) or t < 0:
            raise ValueError(f"t must be a number of working hours >= 0, got {t!r}")
        if math.isinf(t):
            return 0.0
        mu = self.service_rate
        theta = self.servers * mu - self.arrival_rate
        lo, hi = min(mu, theta), max(mu, theta)
        gap = hi - lo
        ratio = t if gap == 0 else -math.expm1(-gap * t) / gap
        divided_difference = math.exp(-lo * t) * ratio
        tail = math.exp(-mu * t) + self.wait_probability * mu * divided_difference
        return min(1.0, max(0.0, tail))

    def on_time_share(self, deadline_hours: float) -> float:
        """P(T ≤ D): the share of customers done within a deadline of D working hours."""
        return 1.0 - self.sojourn_tail(deadline_hours)

    def mean_wait(self) -> float:
        """E[W] = C / (cμ − λ), the mean time in queue before service starts."""
        return self.wait_probability / (self.servers * self.service_rate - self.arrival_rate)

    def mean_sojourn(self) -> float:
        """E[T] = E[W] + 1/μ, the mean time from arrival to completion."""
        return self.mean_wait() + self.service_mean


def sampling_error(share: float, n: int) -> float:
    """The 95% half-width 1.96·sqrt(p(1 − p)/n) of a share p measured over n customers.

    This is the normal approximation for independent customers. Successive sojourn times in a
    queue are correlated, so the true error of a simulated share is larger: about twice this at
    rho 0.6 on 4 servers, over ten times at rho 0.9 on 4 servers (200,000 customers each).
    """
    if math.isnan(share) or not 0 <= share <= 1:
        raise ValueError(f"share must be between 0 and 1, got {share!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"sample size n must be a positive integer, got {n!r}")
    return Z_95 * math.sqrt(share * (1.0 - share) / n)


def batch_means_error(outcomes: Sequence[bool]) -> float | None:
    """The 95% half-width of an on-time share from the method of batch means: `outcomes` (on
    time or not) in order of acceptance, cut into `BATCHES` consecutive batches of equal size, the
    spread of the batches' shares (Student's t, 9 degrees of freedom). Neighbours in a queue
    wait alike, so this is the honest error of a simulated share where `sampling_error`, which
    assumes independent customers, is several times too small. None below 2 outcomes a batch."""
    size = len(outcomes) // BATCHES
    if size < 2:
        return None
    shares = [sum(outcomes[i * size : (i + 1) * size]) / size for i in range(BATCHES)]
    return T_95_9 * statistics.stdev(shares) / math.sqrt(BATCHES)
