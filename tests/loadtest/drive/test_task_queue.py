"""The open model's task queue on gevent (imported alone, gevent patches nothing): due tasks go
to exactly one user each, never before their intended start, in order; nothing falls due after
the end; what was due and never taken is counted."""

from __future__ import annotations

import time

import gevent

from loadtest.drive.engine import Task, TaskQueue


def _task(at: float, seq: int) -> Task:
    return Task(at, seq, "submit", {"n": seq})


def test_each_due_task_goes_to_one_user_in_order_and_never_early() -> None:
    queue = TaskQueue()
    start = time.time()
    for seq, offset in enumerate([0.09, 0.03, 0.06, 0.0, 0.12]):
        queue.put(_task(start + offset, seq))
    until = start + 0.5
    taken: list[tuple[int, float, float]] = []

    def user() -> None:
        while (found := queue.take(until)) is not None:
            taken.append((found.seq, found.at, time.time()))

    gevent.joinall([gevent.spawn(user) for _ in range(8)], timeout=5)
    assert [seq for seq, _, _ in taken] == [3, 1, 2, 0, 4]
    assert all(started >= intended for _, intended, started in taken)
    assert queue.due_before(until) == 0


def test_an_earlier_task_put_later_is_not_held_behind_a_later_one() -> None:
    queue = TaskQueue()
    now = time.time()
    queue.put(_task(now + 0.3, 0))
    got: list[int] = []
    waiter = gevent.spawn(lambda: got.append(getattr(queue.take(now + 1.0), "seq", -1)))
    gevent.sleep(0.02)  # the dispatcher now waits for the task at +0.3 s
    queue.put(_task(time.time(), 1))
    waiter.join(timeout=5)
    assert got == [1]


def test_tasks_left_when_the_run_ends_are_counted_not_lost() -> None:
    queue = TaskQueue()
    now = time.time()
    for seq in range(3):
        queue.put(_task(now - 1 + seq * 0.001, seq))  # all overdue, nobody takes them
    queue.put(_task(now + 60, 3))  # after the end: not due
    until = now + 0.05
    gevent.spawn(queue.take, until).join(timeout=5)  # one user took one task, then it ended
    gevent.sleep(0.1)
    assert queue.take(until) is not None  # the dispatcher handed the overdue ones on
    assert queue.due_before(until) == 1
    assert len(queue) == 2
