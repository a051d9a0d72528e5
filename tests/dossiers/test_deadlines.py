"""Timeliness classification (domain.md, "Deadlines and on-time processing")."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.core.calendar import VIETNAM_TZ
from app.dossiers.deadlines import classify

DUE = datetime(2026, 3, 10, 10, 0, tzinfo=VIETNAM_TZ)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=VIETNAM_TZ)


def test_no_due_date_means_no_timeliness() -> None:
    assert (
        classify(due_at=None, finished_at=None, paused_at=None, supplement_requests=0, now=at(3, 9))
        is None
    )


def test_finished_on_an_earlier_day_is_early() -> None:
    result = classify(
        due_at=DUE, finished_at=at(9, 16, 59), paused_at=None, supplement_requests=0, now=at(12, 9)
    )
    assert result == "early"


def test_finished_on_the_due_day_by_the_due_instant_is_on_time() -> None:
    for finished in (at(10, 7, 30), DUE):
        result = classify(
            due_at=DUE, finished_at=finished, paused_at=None, supplement_requests=0, now=at(12, 9)
        )
        assert result == "on_time"


def test_finished_after_the_due_instant_is_overdue() -> None:
    result = classify(
        due_at=DUE,
        finished_at=DUE + timedelta(minutes=1),
        paused_at=None,
        supplement_requests=0,
        now=at(12, 9),
    )
    assert result == "overdue"


def test_open_dossiers_are_in_time_until_the_due_instant_comes() -> None:
    def open_at(now: datetime) -> str | None:
        return classify(
            due_at=DUE, finished_at=None, paused_at=None, supplement_requests=0, now=now
        )

    assert open_at(at(9, 9)) == "in_time"
    assert open_at(DUE - timedelta(seconds=1)) == "in_time"
    assert open_at(DUE) == "overdue"


def test_a_paused_dossier_is_judged_at_the_supplement_request() -> None:
    result = classify(
        due_at=DUE, finished_at=None, paused_at=at(9, 9), supplement_requests=1, now=at(20, 9)
    )
    assert result == "in_time"


def test_more_than_one_supplement_request_is_overdue_even_if_finished_early() -> None:
    result = classify(
        due_at=DUE, finished_at=at(4, 9), paused_at=None, supplement_requests=2, now=at(12, 9)
    )
    assert result == "overdue"
