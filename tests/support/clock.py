"""A clock the tests set by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal


class ManualClock:
    mode: Literal["manual"] = "manual"
    speed = 1.0

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now
