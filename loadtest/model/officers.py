"""A back office as a queue: `c` officers who take dossiers first come, first served and work only
in working time of the portal's calendar. Pure: the instants are simulated time.

The queue itself (`OfficerQueue`) counts in working hours, so that the offline staffing
simulation (loadtest/model/staffing.py) and the harness's back offices (`OfficerPool`, over
instants) run the same code."""

from __future__ import annotations

import heapq
import math
import random
from datetime import datetime, timedelta
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from app.core.calendar import WorkingCalendar
from loadtest.model.workload import Workload

HOUR = timedelta(hours=1)


class OfficerQueue:
    """When each of `officers` officers is next free, in working hours since an opening; a
    dossier ready at `ready` that needs `hours` of work is taken by the officer free first, no
    earlier than it is ready, and done `hours` later. With Poisson arrivals and exponential work
    this is the M/M/c queue of harness.md."""

    def __init__(self, officers: int) -> None:
        if officers < 1:
            raise ValueError("a back office needs at least one officer")
        self._free_at = [0.0] * officers

    @property
    def officers(self) -> int:
        return len(self._free_at)

    def assign(self, ready: float, hours: float) -> tuple[float, float]:
        """(start, done) of the dossier's work, in working hours since the opening."""
        start = max(self._free_at[0], ready)
        done = start + hours
        heapq.heapreplace(self._free_at, done)
        return start, done


class OfficerPool:
    """An `OfficerQueue` over instants: working hours are counted by the calendar from the
    opening, so nights, weekends and holidays never count as work."""

    def __init__(self, officers: int, calendar: WorkingCalendar, opening: datetime) -> None:
        self.calendar = calendar
        self.opening = opening
        self.queue = OfficerQueue(officers)

    @property
    def officers(self) -> int:
        return self.queue.officers

    def assign(self, ready_at: datetime, hours: float) -> tuple[datetime, datetime]:
        """(start, done) of the dossier's work."""
        calendar = self.calendar
        ready = max(calendar.between(self.opening, ready_at), timedelta(0)) / HOUR
        start, done = self.queue.assign(ready, hours)
        freed = calendar.add(self.opening, timedelta(hours=start))
        return calendar.add(max(freed, ready_at), timedelta(0)), calendar.add(
            self.opening, timedelta(hours=done)
        )


def service_hours(workload: Workload, rng: random.Random, legal_hours: float) -> float:
    """An officer's working hours for a dossier of a procedure of `legal_hours`: exponential in
    the M/M/c case, else a log-normal share of the legal processing time."""
    if workload.queueing is not None:
        return rng.expovariate(1 / workload.queueing.service_mean_hours)
    backoffice = workload.backoffice
    return lognormal_hours(
        rng,
        legal_hours * backoffice.service_median_share,
        backoffice.service_sigma,
        backoffice.service_min_hours,
    )


def mean_service_hours(workload: Workload, legal_hours: float) -> float:
    """The expectation of `service_hours`: for the log-normal floored at m0, with median m and
    z0 = ln(m0/m)/sigma, E = m0·Phi(z0) + m·e^(sigma²/2)·(1 − Phi(z0 − sigma))."""
    if workload.queueing is not None:
        return workload.queueing.service_mean_hours
    backoffice = workload.backoffice
    median, sigma = legal_hours * backoffice.service_median_share, backoffice.service_sigma
    floor = backoffice.service_min_hours
    if not sigma or median <= 0:
        return max(floor, median)
    if floor <= 0:
        return median * math.exp(sigma**2 / 2)
    z0 = math.log(floor / median) / sigma
    normal = NormalDist()
    return floor * normal.cdf(z0) + median * math.exp(sigma**2 / 2) * (1 - normal.cdf(z0 - sigma))


def service_hours_array(
    workload: Workload, rng: np.random.Generator, legal_hours: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """`service_hours` for many dossiers at once (the staffing simulation draws millions)."""
    if workload.queueing is not None:
        return rng.exponential(workload.queueing.service_mean_hours, len(legal_hours))
    backoffice = workload.backoffice
    median = legal_hours * backoffice.service_median_share
    if backoffice.service_sigma:
        median = median * np.exp(rng.normal(0.0, backoffice.service_sigma, len(legal_hours)))
    return np.maximum(backoffice.service_min_hours, median)


def lognormal_hours(rng: random.Random, median: float, sigma: float, minimum: float) -> float:
    return max(minimum, median * math.exp(rng.gauss(0.0, sigma)) if sigma else median)
