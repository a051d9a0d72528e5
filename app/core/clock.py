"""Where every "now" of the portal comes from: real time, or accelerated virtual time so that a
load run can compress weeks of processing into minutes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
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
    worker processes must agree on it: they share the anchor, not a process's monotonic zero.

    Given an `anchor_file` instead of an anchor, the clock holds at `start` until that file
    names the anchor: a load run's harness writes it when it is ready to start, so that however
    long the servers and the harness took to start, the run begins at the workload's start."""

    mode: Literal["accelerated"] = "accelerated"

    def __init__(
        self,
        start: datetime,
        speed: float,
        anchor: datetime | None = None,
        anchor_file: Path | None = None,
    ) -> None:
        if start.tzinfo is None or (anchor is not None and anchor.tzinfo is None):
            raise ValueError("clock start and anchor must be timezone-aware")
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.start = start.astimezone(UTC)
        self.speed = speed
        self._anchor_file = anchor_file if anchor is None else None
        self._anchor: float | None = None
        self._next_look = 0.0
        if self._anchor_file is None:
            self._anchor = (anchor or datetime.now(UTC)).timestamp()

    def now(self) -> datetime:
        anchor = self._anchor if self._anchor is not None else self._anchor_from_file()
        if anchor is None:  # held: the run has not begun
            return self.start
        return self.start + timedelta(seconds=(time.time() - anchor) * self.speed)

    def _anchor_from_file(self) -> float | None:
        now = time.time()
        if self._anchor_file is None or now < self._next_look:
            return None
        self._next_look = now + ANCHOR_LOOK_SECONDS
        try:
            text = self._anchor_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        anchor = datetime.fromisoformat(text)  # written whole (a rename): never a partial line
        if anchor.tzinfo is None:
            raise ValueError(f"{self._anchor_file}: the anchor must be timezone-aware")
        self._anchor = anchor.timestamp()
        return self._anchor


ANCHOR_LOOK_SECONDS = 0.05  # how often a held clock looks for its anchor file


def clock_from_settings(settings: Settings) -> Clock:
    if settings.clock_mode == "real":
        return RealClock()
    start = settings.clock_start or datetime.now(UTC)
    if start.tzinfo is None:
        # A bare "2026-03-02T07:30" means the agencies' wall clock.
        start = start.replace(tzinfo=VIETNAM_TZ)
    return AcceleratedClock(
        start, settings.clock_speed, settings.clock_anchor, settings.clock_anchor_file
    )
