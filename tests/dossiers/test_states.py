"""The status machine: every (from, to) pair of the ten statuses, for every actor."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.dossiers.kinds import ActorKind
from app.dossiers.states import (
    LEGAL_TRANSITIONS,
    TERMINAL,
    Status,
    TransitionRefused,
    check_transition,
    is_legal,
)

# domain.md, written out independently of the code's table.
DOMAIN_LEGAL = {
    (1, 2), (1, 3), (1, 5), (1, 7),
    (2, 4),
    (4, 5), (4, 6), (4, 8), (4, 9), (4, 7),
    (5, 4), (5, 8),
    (6, 4), (6, 9),
    (7, 8),
    (9, 10),
}  # fmt: skip
ALL_PAIRS = list(itertools.product(Status, Status))


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=lambda s: str(int(s)))
def test_every_pair_follows_the_domain_table(current: Status, target: Status) -> None:
    assert is_legal(current, target) == ((int(current), int(target)) in DOMAIN_LEGAL)


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=lambda s: str(int(s)))
def test_system_actor_is_refused_exactly_the_illegal_pairs(current: Status, target: Status) -> None:
    if (int(current), int(target)) in DOMAIN_LEGAL:
        check_transition(current, target, ActorKind.SYSTEM)
    else:
        with pytest.raises(TransitionRefused) as refused:
            check_transition(current, target, ActorKind.SYSTEM)
        assert f"{int(current)} (" in refused.value.reason
        assert f"-> {int(target)} (" in refused.value.reason


def test_terminal_statuses_have_no_way_out() -> None:
    assert {int(s) for s in TERMINAL} == {3, 8, 10}
    for status in (Status.RESOLVED, Status.RESULT_RETURNED):
        assert not is_legal(status, Status.WITHDRAWAL_REQUESTED)
        assert not is_legal(status, Status.STOPPED)


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=lambda s: str(int(s)))
def test_citizens_only_withdraw_or_hand_in_a_supplement(current: Status, target: Status) -> None:
    allowed = (int(current), int(target)) in {(1, 7), (4, 7), (5, 4)}
    if allowed:
        check_transition(current, target, ActorKind.CITIZEN)
    else:
        with pytest.raises(TransitionRefused):
            check_transition(current, target, ActorKind.CITIZEN)


def test_citizens_cannot_act_for_the_agency() -> None:
    with pytest.raises(TransitionRefused):
        check_transition(Status.SUBMITTED, Status.ACCEPTED, ActorKind.CITIZEN)
    with pytest.raises(TransitionRefused):
        check_transition(Status.PROCESSING, Status.RESOLVED, ActorKind.CITIZEN)


def test_agencies_cannot_withdraw_for_the_citizen() -> None:
    with pytest.raises(TransitionRefused, match="may not"):
        check_transition(Status.SUBMITTED, Status.WITHDRAWAL_REQUESTED, ActorKind.AGENCY)


@given(st.lists(st.sampled_from(list(Status)), max_size=40))
def test_any_walk_through_legal_moves_never_leaves_a_terminal_status(
    targets: list[Status],
) -> None:
    current = Status.SUBMITTED
    for target in targets:
        if is_legal(current, target):
            assert current not in TERMINAL
            current = target
    assert current in LEGAL_TRANSITIONS
