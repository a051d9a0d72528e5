"""Replaying a back office's history: the state depends on the set of updates received, never
on the order or the number of times they arrived."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.calendar import VIETNAM_TZ, WorkingCalendar
from app.dossiers.deadlines import ProcessingTime
from app.dossiers.states import LEGAL_TRANSITIONS, Status
from app.sync.history import Entry, Replay, extend, reconcile, replay

CALENDAR = WorkingCalendar()
PROCESSING = ProcessingTime(5, "working_day")
START = datetime(2026, 3, 2, 8, 0, tzinfo=VIETNAM_TZ)


def entry(minutes: int, status: int, origin: str = "sync") -> Entry:
    at = START + timedelta(minutes=minutes)
    return Entry(at=at, status=Status(status), origin=origin, key=f"{origin}-{minutes}-{status}")  # type: ignore[arg-type]


@st.composite
def valid_histories(draw: st.DrawFn) -> list[Entry]:
    """A submission and a random walk through legal moves, at strictly increasing instants."""
    minutes = 0
    status = Status.SUBMITTED
    history = [entry(minutes, status)]
    for _ in range(draw(st.integers(0, 10))):
        targets = sorted(LEGAL_TRANSITIONS[status])
        if not targets:
            break
        status = draw(st.sampled_from(targets))
        minutes += draw(st.integers(1, 3 * 24 * 60))
        history.append(entry(minutes, status))
    return history


def deliver(batches: list[list[Entry]]) -> Replay:
    """What the portal ends with after these deliveries, batch by batch."""
    known: list[Entry] = []
    applied: frozenset[tuple[datetime, Status]] = frozenset()
    result = replay([], calendar=CALENDAR, processing=PROCESSING)
    for batch in batches:
        identities = {e.identity for e in known}
        new = [e for e in batch if e.identity not in identities]
        result = reconcile(known, applied, new, calendar=CALENDAR, processing=PROCESSING)
        known += new
        applied = frozenset(e.identity for e in result.applied)
    return result


@st.composite
def scrambled_deliveries(draw: st.DrawFn) -> tuple[list[Entry], list[list[Entry]]]:
    history = draw(valid_histories())
    with_duplicates = history + draw(st.lists(st.sampled_from(history), max_size=len(history)))
    shuffled = draw(st.permutations(with_duplicates))
    cuts = sorted(draw(st.lists(st.integers(0, len(shuffled)), max_size=4)))
    bounds = [0, *cuts, len(shuffled)]
    return history, [shuffled[a:b] for a, b in pairwise(bounds) if b > a]


@settings(max_examples=300, deadline=None)
@given(scrambled_deliveries())
def test_any_order_and_duplication_ends_as_in_order_delivery(
    case: tuple[list[Entry], list[list[Entry]]],
) -> None:
    history, batches = case
    in_order = deliver([[e] for e in history])
    scrambled = deliver(batches)

    assert scrambled.progress == in_order.progress
    assert [e.identity for e in scrambled.applied] == [e.identity for e in in_order.applied]
    assert [e.identity for e in in_order.applied] == [e.identity for e in history]


@settings(max_examples=200, deadline=None)
@given(scrambled_deliveries())
def test_no_delivery_moves_a_dossier_backwards(
    case: tuple[list[Entry], list[list[Entry]]],
) -> None:
    _, batches = case
    latest: datetime | None = None
    for end in range(1, len(batches) + 1):
        last = deliver(batches[:end]).last_applied_at
        if latest is not None:
            assert last is not None
            assert last >= latest
        latest = last


def test_a_late_older_update_joins_the_history_once_the_gap_is_filled() -> None:
    submitted, accepted, processing = entry(0, 1), entry(60, 2), entry(61, 4)
    requested, handed_in, resolved = entry(600, 5), entry(2000, 4), entry(5000, 9)
    first = [submitted, accepted, processing, resolved]
    assert status_after([first]) is Status.RESOLVED

    # The supplement request, older than the resolution, arrives alone: 5 then 9 is illegal,
    # so it waits in the history and the dossier stays resolved.
    waiting = deliver([first, [requested]])
    assert status_after([first, [requested]]) is Status.RESOLVED
    assert requested.identity not in {e.identity for e in waiting.applied}

    # Once the hand-in arrives too, the history is whole and the pause counts.
    whole = deliver([first, [requested], [handed_in]])
    assert whole.progress is not None
    assert whole.progress.status is Status.RESOLVED
    assert whole.progress.supplement_requests == 1


def status_after(batches: list[list[Entry]]) -> Status:
    progress = deliver(batches).progress
    assert progress is not None
    return progress.status


def test_the_portals_own_transitions_are_never_undone() -> None:
    submitted, accepted = entry(0, 1, "portal"), entry(60, 2, "portal")
    # A back office claims the dossier was refused at intake before the portal accepted it.
    refused = entry(30, 3)
    assert deliver([[submitted, accepted], [refused]]).progress == (
        deliver([[submitted, accepted]]).progress
    )


@st.composite
def histories_with_news(draw: st.DrawFn) -> tuple[list[Entry], list[Entry]]:
    """A valid history cut in two, and what arrives next: its tail (restated steps and other
    statuses among it, at any instant) with a few entries of any status."""
    history = draw(valid_histories())
    cut = draw(st.integers(1, len(history)))
    known, tail = history[:cut], history[cut:]
    extra = draw(
        st.lists(
            st.builds(
                entry, st.integers(0, 40 * 24 * 60), st.sampled_from([int(s) for s in Status])
            ),
            max_size=3,
        )
    )
    return known, draw(
        st.permutations(tail + extra + draw(st.lists(st.sampled_from(known), max_size=2)))
    )


@settings(max_examples=400, deadline=None)
@given(histories_with_news())
def test_extending_a_history_from_its_end_is_the_whole_replay(
    case: tuple[list[Entry], list[Entry]],
) -> None:
    known, new = case
    before = replay(known, calendar=CALENDAR, processing=PROCESSING)
    assert before.progress is not None
    last = max(e.at for e in known)
    extended = extend(before.progress, new, after=last, calendar=CALENDAR, processing=PROCESSING)
    whole = replay(known + new, calendar=CALENDAR, processing=PROCESSING)
    if extended is None:
        # Only when the shortcut cannot be sure: something not after the history, or refused.
        assert not new or min(e.at for e in new) <= last or whole.refused
        return
    assert extended.progress == whole.progress
    assert before.applied + extended.applied == whole.applied
    assert not whole.refused


def test_extending_declines_what_only_the_whole_history_can_place() -> None:
    submitted, accepted = entry(0, 1), entry(60, 2)
    progress = replay([submitted, accepted], calendar=CALENDAR, processing=PROCESSING).progress
    assert progress is not None

    def extended(*new: Entry) -> Replay | None:
        return extend(progress, new, after=accepted.at, calendar=CALENDAR, processing=PROCESSING)

    assert extended(entry(30, 4)) is None  # older than the history's end
    assert extended(entry(90, 1)) is None  # 2 -> 1 is not a move
    done = extended(entry(90, 4), entry(120, 4))
    assert done is not None
    assert done.progress is not None
    assert done.progress.status is Status.PROCESSING
    assert len(done.applied) == 2
