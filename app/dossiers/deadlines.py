"""Deadline rules of a dossier (domain.md, "Deadlines and on-time processing"): pure functions
over instants and the working-time calendar."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from app.core.calendar import VIETNAM_TZ

Timeliness = Literal["early", "on_time", "overdue", "in_time"]

# The national indicator spec counts a dossier with more than one supplement request as overdue.
MAX_SUPPLEMENT_REQUESTS_ON_TIME = 1


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
