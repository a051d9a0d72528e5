"""A back office as a queue: `c` officers who take dossiers first come, first served and work only
in working time of the portal's calendar. Pure: the instants are simulated time.

The queue itself (`OfficerQueue`) counts in working hours, so that the offline staffing
simulation (loadtest/model/staffing.py) and the harness's back offices (`OfficerPool`, over
instants) run the same code."""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import NormalDist
from typing import Generic, Protocol, TypeVar

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


Ready = TypeVar("Ready", float, datetime)


class Assigns(Protocol[Ready]):
    def assign(self, ready: Ready, hours: float, /) -> tuple[Ready, Ready]: ...


@dataclass(frozen=True)
class Admitted(Generic[Ready]):
    """A dossier the officers' queue took: its work's start and finish."""

    code: str
    start: Ready
    done: Ready


class IntakeLine(Generic[Ready]):
    """An agency's online dossiers enter its officers' queue in the order the schedule meant,
    whatever order the back office's chain delivers them in (issue 20). A dossier's place is its
    rank among the agency's intended submissions; the poll due after each is its intended
    acceptance, so places come in the order of intended acceptances. A dossier waits here until
    every earlier place has entered or is known never to (refused or withdrawn at intake, a
    failed submission): first come, first served over the intended instants is then exactly the
    model's queue, and a late hand-off no longer leaves an officer's time unused (the FCFS queue
    cannot go back to fill it). `give_up` lets the waiting ones in past an earlier place that
    stays away; that place, when it comes, enters as it comes and is counted."""

    def __init__(self, queue: Assigns[Ready]) -> None:
        self.queue: Assigns[Ready] = queue
        self._next = 0  # the lowest place neither in the queue nor given up
        self._waiting: dict[int, tuple[str, Ready, float]] = {}
        self._skipped: set[int] = set()
        self.out_of_order = 0  # dossiers that entered after a later place (see give_up)

    def enter(self, place: int, code: str, ready: Ready, hours: float) -> list[Admitted[Ready]]:
        """The dossier at `place` is ready at `ready` (its intended acceptance) with `hours`
        of work; returns the dossiers this lets into the queue, in order."""
        if place < self._next:
            self.out_of_order += 1
            return [self._admit(code, ready, hours)]
        self._waiting[place] = (code, ready, hours)
        return self._advance()

    def skip(self, place: int) -> list[Admitted[Ready]]:
        """The dossier at `place` will not enter: the places after it need not wait for it."""
        if place >= self._next and place not in self._waiting:
            self._skipped.add(place)
        return self._advance()

    def waiting(self, place: int) -> bool:
        return place in self._waiting

    def give_up(self, place: int) -> list[Admitted[Ready]]:
        """Stop waiting for the places before `place` that have not come."""
        admitted = []
        while self._next < place:
            if self._next in self._waiting:
                admitted.append(self._admit(*self._waiting.pop(self._next)))
            self._skipped.discard(self._next)
            self._next += 1
        return admitted + self._advance()

    def _advance(self) -> list[Admitted[Ready]]:
        admitted = []
        while True:
            if self._next in self._waiting:
                admitted.append(self._admit(*self._waiting.pop(self._next)))
            elif self._next in self._skipped:
                self._skipped.remove(self._next)
            else:
                return admitted
            self._next += 1

    def _admit(self, code: str, ready: Ready, hours: float) -> Admitted[Ready]:
        start, done = self.queue.assign(ready, hours)
        return Admitted(code, start, done)


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
