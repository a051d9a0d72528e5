"""A dossier's history as the back offices tell it, and the replay that turns it into state.

Back offices resend, reorder and batch. Rather than applying each update to whatever the
dossier looks like when it arrives, the portal keeps every update it has received and replays
the whole history in the order of the updates' own times through the one status machine
(`lifecycle.advance`). The state is therefore a function of the set of updates, not of their
arrival order: any permutation or duplication of the deliveries of a valid history ends where
in-order delivery ends, with the same timeline.

One guard keeps that from ever moving a dossier backwards while deliveries are incomplete: if
an update older than the dossier's latest applied update would make the replay end earlier (a
missing middle step makes the newer ones illegal for now), the older update is kept in the
history but left out of the state until the updates between arrive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from app.core.calendar import WorkingCalendar
from app.dossiers.deadlines import ProcessingTime
from app.dossiers.kinds import ActorKind, EventOrigin
from app.dossiers.lifecycle import Progress, advance
from app.dossiers.states import Status, TransitionRefused


@dataclass(frozen=True, slots=True)
class Entry:
    """One status a dossier reached at an instant, as told by the portal or by a sync item."""

    at: datetime
    status: Status
    origin: EventOrigin
    key: str  # the portal event's id, or the sync item's payload hash
    actor: str = ""
    note: str | None = None
    details: tuple[tuple[str, str], ...] = ()

    @property
    def identity(self) -> tuple[datetime, Status]:
        """What the entry says; snapshots restate steps, so two entries may say the same."""
        return (self.at, self.status)

    @property
    def order(self) -> tuple[datetime, int, int, str]:
        # Updates of one instant go by status code (2 before 4, 9 before 10); of two that say
        # the same, the portal's own comes first; then the key, so that the order never
        # depends on arrival.
        return (self.at, int(self.status), self.origin != EventOrigin.PORTAL, self.key)


@dataclass(frozen=True, slots=True)
class Replay:
    progress: Progress | None
    applied: tuple[Entry, ...]
    refused: tuple[Entry, ...] = field(default=())

    @property
    def last_applied_at(self) -> datetime | None:
        return self.applied[-1].at if self.applied else None


def distinct(entries: Iterable[Entry]) -> list[Entry]:
    """One entry per (instant, status): several snapshots of a dossier restate the same steps."""
    seen: dict[tuple[datetime, Status], Entry] = {}
    for entry in sorted(entries, key=lambda e: e.order):
        seen.setdefault(entry.identity, entry)
    return list(seen.values())


def replay(
    entries: Iterable[Entry], *, calendar: WorkingCalendar, processing: ProcessingTime
) -> Replay:
    """Fold the entries in time order through the status machine. An entry that is not a legal
    move at its place is refused (and may become legal once missing entries arrive); a step
    that restates the current status (another officer's progress note) is applied as is."""
    progress: Progress | None = None
    applied: list[Entry] = []
    refused: list[Entry] = []
    for entry in distinct(entries):
        if progress is None:
            if entry.status is Status.SUBMITTED:
                progress = Progress(status=Status.SUBMITTED)
                applied.append(entry)
            else:
                refused.append(entry)  # nothing can happen to a dossier before its submission
            continue
        moved = _moved(progress, entry, calendar=calendar, processing=processing)
        if moved is None:
            refused.append(entry)
        else:
            progress = moved
            applied.append(entry)
    return Replay(progress, tuple(applied), tuple(refused))


def _moved(
    progress: Progress, entry: Entry, *, calendar: WorkingCalendar, processing: ProcessingTime
) -> Progress | None:
    """The dossier after `entry`, or None if it is not a legal move from where it is. A step
    that restates the current status (another officer's progress note) changes nothing."""
    if entry.status is progress.status:
        return progress
    try:
        return advance(
            progress,
            entry.status,
            entry.at,
            ActorKind.SYSTEM,
            calendar=calendar,
            processing=processing,
        )
    except TransitionRefused:
        return None


def extend(
    progress: Progress,
    new: Iterable[Entry],
    *,
    after: datetime,
    calendar: WorkingCalendar,
    processing: ProcessingTime,
) -> Replay | None:
    """The replay of a history that ended at `progress`, every entry of it applied and none
    later than `after`, once `new` joins it, computed from `new` alone: a dossier's history
    grows at its end far more often than in its middle, and a sync call then costs what it
    brought, not what the dossier has been through. None when only the whole replay can tell:
    a new entry that is not after the whole history, or one that does not apply in turn (it may
    once missing steps arrive; the whole replay keeps it in the history)."""
    entries = distinct(new)
    if not entries or entries[0].at <= after:
        return None
    applied: list[Entry] = []
    for entry in entries:
        moved = _moved(progress, entry, calendar=calendar, processing=processing)
        if moved is None:
            return None
        progress = moved
        applied.append(entry)
    return Replay(progress, tuple(applied))


def reconcile(
    known: Iterable[Entry],
    applied: frozenset[tuple[datetime, Status]],
    new: Iterable[Entry],
    *,
    calendar: WorkingCalendar,
    processing: ProcessingTime,
) -> Replay:
    """The dossier's state once `new` entries join the `known` ones, of which those with the
    identities in `applied` made up the current state. Never backwards: see the module's
    docstring."""
    known, new = list(known), list(new)
    previous = distinct(e for e in known if e.identity in applied)
    previous_last = max((e.at for e in previous), default=None)
    full = replay(known + new, calendar=calendar, processing=processing)
    if previous_last is None or not _regresses(full, previous, previous_last):
        return full
    fresh = [e for e in new if e.at >= previous_last]
    return replay(previous + fresh, calendar=calendar, processing=processing)


def _regresses(result: Replay, previous: list[Entry], previous_last: datetime) -> bool:
    last = result.last_applied_at
    if last is None or last < previous_last:
        return True
    # Whatever the portal itself applied stays applied.
    kept = {e.identity for e in result.applied}
    return any(e.origin == EventOrigin.PORTAL and e.identity not in kept for e in previous)
