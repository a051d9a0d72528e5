"""The virtual clock, with the wall clock pinned so that no test depends on timing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.core import clock as clock_module
from app.core.calendar import VIETNAM_TZ
from app.core.clock import AcceleratedClock, RealClock, clock_from_settings
from app.core.config import Settings

START = datetime(2026, 3, 2, 7, 30, tzinfo=VIETNAM_TZ)
ANCHOR = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The wall clock, as a mutable cell: wall[0] is time.time()."""
    cell = [ANCHOR.timestamp()]
    monkeypatch.setattr(clock_module, "time", SimpleNamespace(time=lambda: cell[0]))
    return cell


def test_one_real_second_is_one_simulated_hour_at_speed_3600(wall: list[float]) -> None:
    clock = AcceleratedClock(START, 3600, ANCHOR)
    assert clock.now() == START
    wall[0] += 2.5
    assert clock.now() == START + timedelta(hours=2.5)


def test_worker_processes_sharing_an_anchor_agree(wall: list[float]) -> None:
    first = AcceleratedClock(START, 3600, ANCHOR)
    wall[0] += 7  # a second worker starting seven real seconds later
    second = AcceleratedClock(START, 3600, ANCHOR)
    assert first.now() == second.now() == START + timedelta(hours=7)


def test_settings_choose_the_clock(wall: list[float]) -> None:
    assert isinstance(clock_from_settings(Settings(_env_file=None)), RealClock)
    accelerated = clock_from_settings(
        Settings(
            _env_file=None,
            clock_mode="accelerated",
            clock_start=datetime(2026, 3, 2, 7, 30),  # naive: the agencies' wall clock
            clock_speed=60,
            clock_anchor=ANCHOR,
        )
    )
    assert accelerated.mode == "accelerated"
    assert accelerated.now() == START
    wall[0] += 60
    assert accelerated.now() == START + timedelta(hours=1)


def test_a_clock_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        AcceleratedClock(START, 0)
    with pytest.raises(ValueError, match="aware"):
        AcceleratedClock(datetime(2026, 3, 2), 10)
    with pytest.raises(ValueError, match="positive"):
        Settings(_env_file=None, clock_speed=-1)


def test_a_clock_given_an_anchor_file_holds_at_its_start_until_the_file_names_the_anchor(
    wall: list[float], tmp_path: Path
) -> None:
    anchor_file = tmp_path / "clock-anchor"
    first = AcceleratedClock(START, 3600, anchor_file=anchor_file)
    wall[0] += 30  # start-up, however long it takes, is not simulated time
    assert first.now() == START
    anchor_file.write_text((ANCHOR + timedelta(seconds=40)).isoformat(), encoding="utf-8")
    wall[0] += 10  # the named instant
    assert first.now() == START
    wall[0] += 2
    second = AcceleratedClock(START, 3600, anchor_file=anchor_file)  # a later worker agrees
    assert first.now() == second.now() == START + timedelta(hours=2)


def test_settings_with_an_anchor_file_make_a_held_clock(wall: list[float], tmp_path: Path) -> None:
    anchor_file = tmp_path / "clock-anchor"
    held = clock_from_settings(
        Settings(
            _env_file=None,
            clock_mode="accelerated",
            clock_start=START,
            clock_speed=60,
            clock_anchor_file=anchor_file,
        )
    )
    wall[0] += 600
    assert held.now() == START
    anchor_file.write_text(ANCHOR.isoformat(), encoding="utf-8")  # named late: the run began
    wall[0] += 1  # the clock looks again (every 50 ms at most)
    assert held.now() == START + timedelta(seconds=601 * 60)
