"""The legal status machine of a dossier (TrangThaiHoSo on the national sync contract).

The one table of legal transitions lives here; every status change in the portal, whoever asks
for it, goes through `check_transition`.
"""

from __future__ import annotations

from enum import IntEnum

from app.dossiers.kinds import ActorKind


class Status(IntEnum):
    SUBMITTED = 1  # Mới đăng ký
    ACCEPTED = 2  # Được tiếp nhận: the processing clock starts
    REFUSED_AT_INTAKE = 3  # Không được tiếp nhận (terminal)
    PROCESSING = 4  # Đang xử lý
    SUPPLEMENT_REQUESTED = 5  # Yêu cầu bổ sung giấy tờ: the clock pauses
    FEES_REQUESTED = 6  # Yêu cầu thực hiện nghĩa vụ tài chính
    WITHDRAWAL_REQUESTED = 7  # Công dân yêu cầu rút hồ sơ
    STOPPED = 8  # Dừng xử lý (terminal)
    RESOLVED = 9  # Đã xử lý xong: the clock ends
    RESULT_RETURNED = 10  # Đã trả kết quả (terminal)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: dict[Status, str] = {
    Status.SUBMITTED: "Mới đăng ký",
    Status.ACCEPTED: "Được tiếp nhận",
    Status.REFUSED_AT_INTAKE: "Không được tiếp nhận",
    Status.PROCESSING: "Đang xử lý",
    Status.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung giấy tờ",
    Status.FEES_REQUESTED: "Yêu cầu thực hiện nghĩa vụ tài chính",
    Status.WITHDRAWAL_REQUESTED: "Công dân yêu cầu rút hồ sơ",
    Status.STOPPED: "Dừng xử lý",
    Status.RESOLVED: "Đã xử lý xong",
    Status.RESULT_RETURNED: "Đã trả kết quả",
}

S = Status
LEGAL_TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.SUBMITTED: frozenset(
        {S.ACCEPTED, S.REFUSED_AT_INTAKE, S.SUPPLEMENT_REQUESTED, S.WITHDRAWAL_REQUESTED}
    ),
    S.ACCEPTED: frozenset({S.PROCESSING}),
    S.REFUSED_AT_INTAKE: frozenset(),
    S.PROCESSING: frozenset(
        {
            S.SUPPLEMENT_REQUESTED,
            S.FEES_REQUESTED,
            S.STOPPED,
            S.RESOLVED,
            S.WITHDRAWAL_REQUESTED,
        }
    ),
    S.SUPPLEMENT_REQUESTED: frozenset({S.PROCESSING, S.STOPPED}),
    S.FEES_REQUESTED: frozenset({S.PROCESSING, S.RESOLVED}),
    S.WITHDRAWAL_REQUESTED: frozenset({S.STOPPED}),
    S.STOPPED: frozenset(),
    S.RESOLVED: frozenset({S.RESULT_RETURNED}),
    S.RESULT_RETURNED: frozenset(),
}

TERMINAL: frozenset[Status] = frozenset(
    s for s, targets in LEGAL_TRANSITIONS.items() if not targets
)

# Who may make which legal move. A citizen only withdraws, or hands in a requested supplement
# (5 -> 4); a back office does everything but withdraw on the citizen's behalf; the system
# (payments, sync) is bound by the table alone.
CITIZEN_MOVES: frozenset[tuple[Status, Status]] = frozenset(
    {
        (S.SUBMITTED, S.WITHDRAWAL_REQUESTED),
        (S.PROCESSING, S.WITHDRAWAL_REQUESTED),
        (S.SUPPLEMENT_REQUESTED, S.PROCESSING),
    }
)


def actor_may(actor: ActorKind, current: Status, target: Status) -> bool:
    if actor == ActorKind.CITIZEN:
        return (current, target) in CITIZEN_MOVES
    if actor == ActorKind.AGENCY:
        return target is not S.WITHDRAWAL_REQUESTED
    return True


class TransitionRefused(Exception):
    def __init__(self, current: Status, target: Status, reason: str) -> None:
        super().__init__(reason)
        self.current = current
        self.target = target
        self.reason = reason


def is_legal(current: Status, target: Status) -> bool:
    return target in LEGAL_TRANSITIONS[current]


def check_transition(current: Status, target: Status, actor: ActorKind) -> None:
    """Raise TransitionRefused unless `actor` may move a dossier from `current` to `target`."""
    if not is_legal(current, target):
        raise TransitionRefused(
            current,
            target,
            f"illegal transition {int(current)} ({current.label}) -> "
            f"{int(target)} ({target.label})",
        )
    if not actor_may(actor, current, target):
        raise TransitionRefused(
            current, target, f"a {actor} may not move a dossier to {int(target)} ({target.label})"
        )
