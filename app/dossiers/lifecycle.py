"""What a status change does to a dossier's clock: the one place where the status machine and
the working-time calendar meet. Pure, so that the portal's own transitions and the replay of a
back office's synced history run exactly the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from app.core.calendar import ProcessingUnit, WorkingCalendar
from app.dossiers.states import ActorKind, Status, check_transition

# Statuses whose arrival ends processing (domain.md: the first of 9, then 10, then 8/3).
ENDS_PROCESSING = frozenset(
    {Status.RESOLVED, Status.RESULT_RETURNED, Status.STOPPED, Status.REFUSED_AT_INTAKE}
)


@dataclass(frozen=True, slots=True)
class ProcessingTime:
    amount: int
    unit: ProcessingUnit


@dataclass(frozen=True, slots=True)
class Progress:
    """The status of a dossier and the instants that its deadline depends on."""

    status: Status
    accepted_at: datetime | None = None
    due_at: datetime | None = None
    paused_at: datetime | None = None
    supplement_requests: int = 0
    finished_at: datetime | None = None
    returned_at: datetime | None = None


def advance(
    progress: Progress,
    target: Status,
    at: datetime,
    actor: ActorKind,
    *,
    calendar: WorkingCalendar,
    processing: ProcessingTime,
) -> Progress:
    """The dossier after moving to `target` at `at`; TransitionRefused if that is not a legal
    move for `actor`.

    Acceptance starts the clock and sets the due date; a supplement request pauses it; handing
    the supplement in shifts the due date by the working time paused; the first end of
    processing is kept. A dossier completed at intake (1 -> 5 -> 4) is received, and its clock
    starts, when it is complete.
    """
    check_transition(progress.status, target, actor)
    changes: dict[str, object] = {"status": target}
    if target is Status.ACCEPTED or (target is Status.PROCESSING and progress.accepted_at is None):
        changes["accepted_at"] = at
        changes["due_at"] = calendar.due_at(at, processing.amount, processing.unit)
    elif target is Status.SUPPLEMENT_REQUESTED and progress.accepted_at is not None:
        changes["paused_at"] = at
        changes["supplement_requests"] = progress.supplement_requests + 1
    elif target is Status.PROCESSING and progress.due_at and progress.paused_at:
        paused = calendar.between(progress.paused_at, at)
        changes["due_at"] = calendar.add(progress.due_at, paused)
    if target in ENDS_PROCESSING and progress.finished_at is None:
        # A citizen who never hands the supplement in: the request time is the end.
        changes["finished_at"] = progress.paused_at or at
    if progress.status is Status.SUPPLEMENT_REQUESTED:
        changes["paused_at"] = None
    if target is Status.RESULT_RETURNED:
        changes["returned_at"] = at
    return replace(progress, **changes)  # type: ignore[arg-type]
