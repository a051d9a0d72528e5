"""A dossier's deadline (domain.md, "Deadlines and on-time processing"): the due date set at
acceptance, its shift by the working time a supplement request paused, and the on-time
classification. Pure functions over instants and the working-time calendar; the status machine
calls them from `lifecycle.advance`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from app.core.calendar import VIETNAM_TZ, ProcessingUnit, WorkingCalendar

Timeliness = Literal["early", "on_time", "overdue", "in_time"]

# The national indicator spec counts a dossier with more than one supplement request as overdue.
MAX_SUPPLEMENT_REQUESTS_ON_TIME = 1


@dataclass(frozen=True, slots=True)
class ProcessingTime:
    """The legal processing time of a procedure, in working days or working hours."""

    amount: int
    unit: ProcessingUnit


def due_at_acceptance(
    calendar: WorkingCalendar, accepted_at: datetime, processing: ProcessingTime
) -> datetime:
    """The due date: the processing time in working time from the acceptance."""
    return calendar.due_at(accepted_at, processing.amount, processing.unit)


def due_after_pause(
    calendar: WorkingCalendar, due_at: datetime, paused_at: datetime, resumed_at: datetime
) -> datetime:
    """The due date after a supplement request: later by the working time it stood paused."""
    return calendar.add(due_at, calendar.between(paused_at, resumed_at))


def classify(
    *,
    due_at: datetime | None,
    finished_at: datetime | None,
    paused_at: datetime | None,
    supplement_requests: int,
    now: datetime,
) -> Timeliness | None:
    """Early / on time / overdue for a finished dossier; in time / overdue for an open one;
    None while no due date exists (not yet accepted, or refused at intake).

    "Early" means finished on a calendar day (Asia/Ho_Chi_Minh) before the due date's day, and
    "on time" finished later but not after the due instant: the indicator counts days, while
    the due instant itself is kept to the minute.
    """
    if due_at is None:
        return None
    if supplement_requests > MAX_SUPPLEMENT_REQUESTS_ON_TIME:
        return "overdue"
    if finished_at is not None:
        if finished_at > due_at:
            return "overdue"
        if finished_at.astimezone(VIETNAM_TZ).date() < due_at.astimezone(VIETNAM_TZ).date():
            return "early"
        return "on_time"
    # While a supplement is awaited the clock stands still at the request. domain.md: an open
    # dossier is overdue once due <= now.
    reference = paused_at if paused_at is not None else now
    return "overdue" if reference >= due_at else "in_time"


def due_disagrees(claimed: datetime | None, computed: datetime | None) -> bool:
    """Whether a back office's NgayHenTra falls on another day than the portal's own due date.
    Days, not instants: back offices commonly state the due date as a day (at 17:00)."""
    if claimed is None or computed is None:
        return False
    return claimed.astimezone(VIETNAM_TZ).date() != computed.astimezone(VIETNAM_TZ).date()
