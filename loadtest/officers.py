"""A back office as a queue: `c` officers who take dossiers first come, first served and work only
in working time of the portal's calendar. Pure: the instants are simulated time."""

from __future__ import annotations

import heapq
import math
import random
from datetime import datetime, timedelta

from app.core.calendar import WorkingCalendar


class OfficerPool:
    """When each of `officers` officers is next free; a dossier ready at `ready_at` that needs
    `hours` of work is taken by the officer free first, no earlier than it is ready, and done
    `hours` working hours later. With Poisson arrivals and exponential work this is the M/M/c
    queue of harness.md, in working-time coordinates."""

    def __init__(self, officers: int, calendar: WorkingCalendar, opening: datetime) -> None:
        if officers < 1:
            raise ValueError("a back office needs at least one officer")
        self.calendar = calendar
        self._free_at = [opening] * officers
        heapq.heapify(self._free_at)

    @property
    def officers(self) -> int:
        return len(self._free_at)

    def assign(self, ready_at: datetime, hours: float) -> tuple[datetime, datetime]:
        """(start, done) of the dossier's work."""
        free = heapq.heappop(self._free_at)
        start = self.calendar.add(max(free, ready_at), timedelta(0))
        done = self.calendar.add(start, timedelta(hours=hours))
        heapq.heappush(self._free_at, done)
        return start, done


def lognormal_hours(rng: random.Random, median: float, sigma: float, minimum: float) -> float:
    return max(minimum, median * math.exp(rng.gauss(0.0, sigma)) if sigma else median)
