"""Where every "now" of the portal comes from: real time, or accelerated virtual time so that a
load run can compress weeks of processing into minutes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from app.core.calendar import VIETNAM_TZ
from app.core.config import Settings


class Clock(Protocol):
    @property
    def mode(self) -> str: ...

    @property
    def speed(self) -> float: ...

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class RealClock:
    mode: Literal["real"] = "real"
    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)


class AcceleratedClock:
    """Virtual time that equals `start` at the real instant `anchor` and runs `speed` times
    faster than real time. Read from the wall clock rather than a monotonic one because several
    worker processes must agree on it: they share the anchor, not a process's monotonic zero."""

    mode: Literal["accelerated"] = "accelerated"

    def __init__(self, start: datetime, speed: float, anchor: datetime | None = None) -> None:
        if start.tzinfo is None or (anchor is not None and anchor.tzinfo is None):
            raise ValueError("clock start and anchor must be timezone-aware")
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.start = start.astimezone(UTC)
        self.speed = speed
        self._anchor = (anchor or datetime.now(UTC)).timestamp()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.time() - self._anchor) * self.speed)


def clock_from_settings(settings: Settings) -> Clock:
    if settings.clock_mode == "real":
        return RealClock()
    start = settings.clock_start or datetime.now(UTC)
    if start.tzinfo is None:
        # A bare "2026-03-02T07:30" means the agencies' wall clock.
        start = start.replace(tzinfo=VIETNAM_TZ)
    return AcceleratedClock(start, settings.clock_speed, settings.clock_anchor)
