"""The open model on one Locust process: every arrival and every follow-up (a back office's next
step, a citizen's poll) is a task with an intended start, queued per actor; the actor's users
take tasks when they fall due. A task that starts late is counted as lag, never hidden: the
generator, not the target, was then the limit.

The process simulates the agencies of its partition whole (citizens, officers, sync pushes), so
a dossier's life never crosses processes; only measurements and the ledger go to the master."""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import gevent
from gevent import Greenlet
from gevent.event import Event
from gevent.lock import BoundedSemaphore
from gevent.queue import Empty, Queue

from app.core.calendar import WorkingCalendar
from loadtest.judge.audit import instant
from loadtest.metrics import Book, interval_for
from loadtest.model.arrivals import Arrival, generate_arrivals
from loadtest.model.officers import Admitted, IntakeLine, OfficerPool
from loadtest.model.workload import Workload
from loadtest.model.world import Agency, World

# How long (real seconds) a dossier taken in waits for an earlier place that has not come: long
# enough for a late chain on a loaded machine (its p99 was 24 s at x2400), short enough that a
# place nothing will ever bring (a harness crash) holds its agency's queue back only briefly.
LINE_PATIENCE_SECONDS = 30.0
ACTORS = ("citizen", "browse", "backoffice", "sync", "payer", "reviewer")


@dataclass(order=True)
class Task:
    at: float  # the intended start, real wall-clock time
    seq: int
    kind: str = field(compare=False)
    data: dict[str, Any] = field(compare=False, default_factory=dict)
    arrival: bool = field(compare=False, default=False)  # an arrival of the schedule


class TaskQueue:
    """An actor's tasks by intended start. One dispatcher greenlet hands each task, once due,
    to a ready queue, where exactly one waiting user takes it: a pool of hundreds of users
    costs one wake-up per task, not one per user."""

    def __init__(self) -> None:
        self._heap: list[Task] = []
        self._changed = Event()
        self._ready: Queue[Task] = Queue()
        self._dispatcher: Greenlet[[float], None] | None = None

    def put(self, task: Task) -> None:
        heapq.heappush(self._heap, task)
        if self._heap[0] is task:  # a new earliest task: the dispatcher's wait is too long
            self._changed.set()

    def _dispatch(self, until: float) -> None:
        while True:
            now = time.time()
            while self._heap and self._heap[0].at <= now:
                self._ready.put(heapq.heappop(self._heap))
            if now >= until:
                return
            wait = until - now
            if self._heap:
                wait = min(wait, self._heap[0].at - now)
            self._changed.clear()
            self._changed.wait(timeout=max(wait, 0.0))

    def take(self, until: float) -> Task | None:
        """The next task once it is due, or None when none falls due before `until`."""
        if self._dispatcher is None:
            self._dispatcher = gevent.spawn(self._dispatch, until)
        try:
            return self._ready.get(timeout=max(0.0, until - time.time()))
        except Empty:
            return None

    def due_before(self, instant: float) -> int:
        """Tasks that should have started before `instant` and did not."""
        ready = sum(1 for task in self._ready.queue if task.at < instant)
        return ready + sum(1 for task in self._heap if task.at < instant)

    def __len__(self) -> int:
        return len(self._heap) + self._ready.qsize()


@dataclass
class DossierRecord:
    """What the harness saw acknowledged for one dossier: the audit checks the portal against
    these facts, the business metrics are computed from them and the portal's own."""

    code: str
    agency: str
    procedure: str
    channel: int  # KenhThucHien: 1 counter (synced), 2 online
    identity: str
    status: int  # the last status the harness drove the dossier to, acknowledged by a 2xx
    submitted_real: float
    submitted_at: str | None = None  # the portal's instant (ISO), or the back office's
    accepted_at: str | None = None
    finished_real: float | None = None
    # The simulated instants the workload meant for the steps that decide lateness (ISO): the
    # submission, the acceptance (the inbox poll the schedule has after the submission, known
    # from it on as `accept_scheduled`, when the intake accepts it), and the officer's finish
    # (or stop). The portal stamps each step when its request lands; the gaps are what the
    # chain added (loadtest/judge/distortion.py).
    submit_intended: str | None = None
    accept_scheduled: str | None = None
    accept_intended: str | None = None
    finish_intended: str | None = None
    returned_real: float | None = None
    supplements: int = 0
    place: int | None = None  # the rank of an online dossier among its agency's submissions
    work_hours: float | None = None  # the officer's working hours drawn for it at intake
    payments_confirmed: list[str] = field(default_factory=list)
    sync_items: int = 0  # items of this dossier the portal accepted
    synced_status: int | None = None  # the status of the latest item accepted (by its time)
    synced_at: str = ""  # that item's time, yyyyMMddHHmmss
    events: list[list[Any]] = field(default_factory=list)  # counter: [status, ISO instant]
    procedure_hours: float = 0.0
    revision: int = 0  # raised at every change: the master keeps the newest snapshot

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Simulation:
    """The state of one process's share of the run."""

    def __init__(
        self,
        world: World,
        workload: Workload,
        partition: int,
        calendar: WorkingCalendar,
        *,
        lag_budget_ms: float,
    ) -> None:
        self.world = world
        self.workload = workload
        self.partition = partition
        self.calendar = calendar
        self.lag_budget_ms = lag_budget_ms
        self.timeline = world.timeline
        self.ends_at = self.timeline.start_real + self.timeline.real_seconds
        self.book = Book(
            started_at=self.timeline.start_real,
            interval_seconds=interval_for(self.timeline.real_seconds),
        )
        self.queues = {actor: TaskQueue() for actor in ACTORS}
        self.agencies: dict[str, Agency] = {a.code: a for a in world.agencies_of(partition)}
        opening = self.sim_datetime(self.timeline.start_real)
        self.officers = {
            code: OfficerPool(a.officers, calendar, opening) for code, a in self.agencies.items()
        }
        self.lines = {code: IntakeLine(pool) for code, pool in self.officers.items()}
        self._polls: dict[str, list[datetime]] = defaultdict(list)  # per agency, in order
        self.ledger: dict[str, DossierRecord] = {}
        self._dirty: set[str] = set()
        self._locks: dict[str, BoundedSemaphore] = defaultdict(BoundedSemaphore)
        self._seq = itertools.count()
        self._rngs: dict[str, random.Random] = {}
        self.tokens: dict[str, str] = {}
        self.taken: set[str] = set()  # online dossiers a back office has taken from its inbox
        self.outbox: dict[str, list[dict[str, Any]]] = defaultdict(list)  # per agency, sync
        self.sent: dict[str, list[dict[str, Any]]] = defaultdict(list)  # for resends
        self.sync_sessions: dict[str, str] = {}
        self.counter_numbers: dict[tuple[str, str], int] = defaultdict(int)
        self._busy: dict[str, int] = defaultdict(int)
        self.stopping = False
        # This process's share of each actor's pool (the plan's pools are for the whole run).
        self._pool = {
            actor: max(1, round(size / world.partitions)) for actor, size in world.pools.items()
        }

    # -- time ----------------------------------------------------------------------------------

    def sim_datetime(self, real: float | None = None) -> datetime:
        return datetime.fromtimestamp(self.timeline.sim(time.time() if real is None else real), UTC)

    def real_of(self, instant: datetime) -> float:
        return self.timeline.real(instant.timestamp())

    def rng(self, agency: str) -> random.Random:
        """The agency's own generator for its follow-ups, so that a run's outcomes do not
        depend on how many workers share its agencies."""
        if agency not in self._rngs:
            self._rngs[agency] = random.Random(f"{self.world.seed}:{agency}:follow-ups")
        return self._rngs[agency]

    def work_rng(self, agency: str, place: int) -> random.Random:
        """The stream of an online dossier's work, by its place in the schedule: the same seed
        gives each dossier the same work whatever order the requests happen in, so the queue,
        and the on-time share judged from it, are the same on any machine."""
        return random.Random(f"{self.world.seed}:{agency}:{place}:work")

    # -- the schedule --------------------------------------------------------------------------

    def seed_arrivals(self) -> int:
        arrivals = generate_arrivals(self.world, self.workload, self.partition, self.calendar)
        for arrival in arrivals:
            self._put(arrival)
            if arrival.kind == "inbox":
                self._polls[arrival.data["agency"]].append(self.sim_datetime(arrival.at))
        return len(arrivals)

    def scheduled_acceptance(self, agency: str, submitted: datetime) -> datetime | None:
        """The agency's first inbox poll the schedule has at or after `submitted`: the instant
        the workload means a dossier submitted then to be taken in, however late the poll's
        request or the submission itself lands; None past the last poll."""
        polls = self._polls[agency]
        index = bisect.bisect_left(polls, submitted)
        return polls[index] if index < len(polls) else None

    def catch_up_intake(self, record: DossierRecord) -> None:
        """A dossier whose submission landed after the inbox poll meant to take it in had come
        (the request straddled the poll): taken in now, as that poll would have, not left to
        the next poll a whole interval later."""
        if record.accept_scheduled is None or record.code in self.taken:
            return
        if instant(record.accept_scheduled) <= self.sim_datetime():
            self.taken.add(record.code)
            self.later(
                "backoffice", "intake", time.time(), code=record.code, meant=record.accept_scheduled
            )

    def _put(self, arrival: Arrival) -> None:
        self.queues[arrival.actor].put(
            Task(arrival.at, next(self._seq), arrival.kind, arrival.data, arrival=True)
        )

    def later(self, actor: str, kind: str, at: datetime | float, **data: Any) -> None:
        """A follow-up task at a simulated instant (datetime) or a real one (float)."""
        real = self.real_of(at) if isinstance(at, datetime) else at
        if real < self.ends_at:
            self.queues[actor].put(Task(real, next(self._seq), kind, data))

    def after_working_hours(self, actor: str, kind: str, hours: float, **data: Any) -> None:
        instant = self.calendar.add(self.sim_datetime(), timedelta(hours=max(0.0, hours)))
        self.later(actor, kind, instant, **data)

    # -- the officers ---------------------------------------------------------------------------

    def enter_line(self, record: DossierRecord, ready_at: datetime, hours: float) -> None:
        """An online dossier taken in, ready for the officers at its intended acceptance: it
        joins the queue in its place (`IntakeLine`), or waits for the places before it, at most
        `LINE_PATIENCE_SECONDS`."""
        assert record.place is not None, "an online dossier has its place in the schedule"
        line = self.lines[record.agency]
        before = line.out_of_order
        self.admit(line.enter(record.place, record.code, ready_at, hours))
        if line.out_of_order > before:
            self.book.count("officers.out_of_order")
        if line.waiting(record.place):
            self.later(
                "backoffice",
                "line",
                time.time() + LINE_PATIENCE_SECONDS,
                agency=record.agency,
                place=record.place,
            )

    def leave_line(self, agency: str, place: int | None) -> None:
        """The dossier at `place` will not join its agency's queue at intake (its submission
        failed, it was refused, withdrawn or sent back for a supplement first)."""
        if place is not None:
            self.admit(self.lines[agency].skip(place))

    def stop_waiting(self, agency: str, place: int) -> None:
        """The patience of a dossier waiting in line ran out: the places before it that have
        not come are not waited for any longer (one that comes later counts as out of order)."""
        line = self.lines[agency]
        if line.waiting(place):
            self.admit(line.give_up(place))

    def admit(self, admitted: list[Admitted[datetime]]) -> None:
        """The officers' finish of each dossier the queue took, as a back office's task: a
        finish the chain's delay already put in the past runs now, meant when it was."""
        now = self.sim_datetime()
        for dossier in admitted:
            self.later(
                "backoffice",
                "done",
                max(dossier.done, now),
                code=dossier.code,
                meant=dossier.done.isoformat(),
            )

    def stop(self, at: float) -> None:
        """End the run early: no task is taken from now on, and no follow-up is scheduled
        past `at`; the tasks under way finish, so that the ledger knows what they did."""
        self.stopping = True
        self.ends_at = min(self.ends_at, at)

    @property
    def in_flight(self) -> int:
        return sum(self._busy.values())

    def take(self, actor: str) -> Task | None:
        if self.stopping:
            return None
        task = self.queues[actor].take(self.ends_at)
        if task is not None:
            self.book.arrival(task.at, time.time(), self.lag_budget_ms)
        return task

    def busy(self, actor: str, change: int) -> None:
        """Users of `actor` at work; every user busy means arrivals wait for one: counted, so
        that lag from a used-up pool is told apart from a saturated generator."""
        self._busy[actor] += change
        if change > 0 and self._busy[actor] >= self._pool.get(actor, 1 << 30):
            self.book.count(f"pool.exhausted.{actor}")

    def unstarted(self, now: float) -> int:
        """Arrivals never started that were due more than the lag budget before `now` (or the
        end): late by any measure. A run stopped early does not count what was still to come."""
        due = min(self.ends_at, now - self.lag_budget_ms / 1000)
        return sum(queue.due_before(due) for queue in self.queues.values())

    # -- the ledger ----------------------------------------------------------------------------

    def record(self, record: DossierRecord) -> DossierRecord:
        self.ledger[record.code] = record
        self.touch(record.code)
        return record

    def touch(self, code: str) -> None:
        self.ledger[code].revision += 1
        self._dirty.add(code)

    def lock(self, code: str) -> BoundedSemaphore:
        """Tasks on one dossier run one at a time, as one person's clicks would."""
        return self._locks[code]

    def drain(self) -> dict[str, Any]:
        changed = {code: self.ledger[code].as_dict() for code in self._dirty}
        self._dirty.clear()
        return {"book": self.book.drain(), "ledger": changed}
