"""What a status change does to a dossier's clock: the one place where the status machine meets
the deadline (deadlines.py). Pure, so that the portal's own transitions and the replay of a
back office's synced history run exactly the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from app.core.calendar import ProcessingUnit, WorkingCalendar
from app.dossiers.deadlines import ProcessingTime, due_after_pause, due_at_acceptance
from app.dossiers.kinds import ActorKind
from app.dossiers.states import Status, check_transition

if TYPE_CHECKING:  # the ORM class only types the row these read and write
    from app.dossiers.models import Dossier

# Statuses whose arrival ends processing (domain.md: the first of 9, then 10, then 8/3).
ENDS_PROCESSING = frozenset(
    {Status.RESOLVED, Status.RESULT_RETURNED, Status.STOPPED, Status.REFUSED_AT_INTAKE}
)


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
        changes["due_at"] = due_at_acceptance(calendar, at, processing)
    elif target is Status.SUPPLEMENT_REQUESTED and progress.accepted_at is not None:
        changes["paused_at"] = at
        changes["supplement_requests"] = progress.supplement_requests + 1
    elif target is Status.PROCESSING and progress.due_at and progress.paused_at:
        changes["due_at"] = due_after_pause(calendar, progress.due_at, progress.paused_at, at)
    if target in ENDS_PROCESSING and progress.finished_at is None:
        # A citizen who never hands the supplement in: the request time is the end.
        changes["finished_at"] = progress.paused_at or at
    if progress.status is Status.SUPPLEMENT_REQUESTED:
        changes["paused_at"] = None
    if target is Status.RESULT_RETURNED:
        changes["returned_at"] = at
    return replace(progress, **changes)  # type: ignore[arg-type]


# Progress is a view of these columns of a stored dossier, under the same names; the service
# and the sync replay read and write it alike.
_PROGRESS_FIELDS = tuple(field.name for field in fields(Progress))


class StoredProgress(Protocol):
    """What the clock reads of a stored dossier: a row or an ORM object."""

    @property
    def code(self) -> str: ...
    @property
    def status(self) -> int: ...
    @property
    def processing_time(self) -> int: ...
    @property
    def processing_unit(self) -> str: ...
    @property
    def accepted_at(self) -> datetime | None: ...
    @property
    def due_at(self) -> datetime | None: ...
    @property
    def paused_at(self) -> datetime | None: ...
    @property
    def supplement_requests(self) -> int: ...
    @property
    def finished_at(self) -> datetime | None: ...
    @property
    def returned_at(self) -> datetime | None: ...


def progress_of(dossier: StoredProgress) -> Progress:
    values = {name: getattr(dossier, name) for name in _PROGRESS_FIELDS}
    return Progress(**values | {"status": Status(dossier.status)})


def progress_columns(progress: Progress) -> dict[str, Any]:
    """The dossier's columns that hold `progress`."""
    return {name: getattr(progress, name) for name in _PROGRESS_FIELDS} | {
        "status": int(progress.status)
    }


def apply_progress(dossier: Dossier, progress: Progress) -> None:
    for name, value in progress_columns(progress).items():
        setattr(dossier, name, value)


_UNITS: dict[str, ProcessingUnit] = {"working_day": "working_day", "working_hour": "working_hour"}


def processing_of(dossier: StoredProgress) -> ProcessingTime:
    unit = _UNITS.get(dossier.processing_unit)
    if unit is None:
        raise ValueError(f"dossier {dossier.code} has an unknown unit {dossier.processing_unit!r}")
    return ProcessingTime(dossier.processing_time, unit)
