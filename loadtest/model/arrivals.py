"""The schedule of arrivals, made before the run: Poisson processes in simulated time whose rate
follows the workload's profiles, each arrival with its intended real start.

A rate that is constant within each local hour makes the process a piecewise-homogeneous
Poisson process, drawn exactly with exponential gaps hour by hour. The M/M/c case draws its
arrivals on the working-time axis instead (flat over working time), mapped back to instants by
the calendar. Every stream has its own seeded generator, so a partition's schedule does not
depend on how many workers share the run."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.core.calendar import VIETNAM_TZ, WorkingCalendar
from loadtest.model.workload import DiurnalShape, Workload, hourly_rate, weekly_weight
from loadtest.model.world import Agency, World

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Arrival:
    at: float  # intended real start (wall clock)
    actor: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def _local_hours(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """[from, to) pieces of the span cut at local hour boundaries."""
    cursor = start
    while cursor < end:
        local = cursor.astimezone(VIETNAM_TZ)
        boundary = local.replace(minute=0, second=0, microsecond=0) + HOUR
        stop = min(end, boundary.astimezone(UTC))
        yield cursor, stop
        cursor = stop


def poisson_instants(
    rng: random.Random,
    start: datetime,
    end: datetime,
    rate_per_hour: Any,  # (local datetime) -> arrivals per simulated hour
    *,
    open_hours: WorkingCalendar | None = None,
) -> list[datetime]:
    """Arrivals at a rate constant within each local hour. With `open_hours`, the rate is per
    working hour and arrivals fall only in the calendar's working time."""
    instants: list[datetime] = []
    for piece_start, piece_end in _local_hours(start, end):
        rate = float(rate_per_hour(piece_start.astimezone(VIETNAM_TZ)))
        if rate <= 0:
            continue
        if open_hours is None:
            span = (piece_end - piece_start) / HOUR
        else:
            span = open_hours.between(piece_start, piece_end) / HOUR
        t = rng.expovariate(rate)
        while t < span:
            offset = timedelta(hours=t)
            instants.append(
                piece_start + offset if open_hours is None else open_hours.add(piece_start, offset)
            )
            t += rng.expovariate(rate)
    return instants


def working_time_instants(
    rng: random.Random,
    calendar: WorkingCalendar,
    start: datetime,
    end: datetime,
    rate_per_working_hour: float,
) -> list[datetime]:
    """Poisson arrivals flat over working time: exponential gaps in working hours."""
    total = calendar.between(start, end).total_seconds() / 3600
    instants, t = [], rng.expovariate(rate_per_working_hour)
    while t < total:
        instants.append(calendar.add(start, timedelta(hours=t)))
        t += rng.expovariate(rate_per_working_hour)
    return instants


def periodic_working_instants(
    rng: random.Random, calendar: WorkingCalendar, start: datetime, end: datetime, minutes: float
) -> list[datetime]:
    """Every `minutes` of working time, from a random phase."""
    total = calendar.between(start, end).total_seconds() / 60
    instants, t = [], rng.uniform(0, minutes)
    while t < total:
        instants.append(calendar.add(start, timedelta(minutes=t)))
        t += minutes
    return instants


class DemandProfile:
    """The workload's demand hour by hour: arrivals per hour of a stream whose average working
    day brings `per_day` dossiers (online round the clock, counters per open hour)."""

    def __init__(
        self, workload: Workload, calendar: WorkingCalendar, day: datetime, shape: DiurnalShape
    ) -> None:
        self.profile = workload.profile
        self.calendar = calendar
        # A flat shape spreads a day's mean demand evenly; its peak multiplier is drawn here and
        # thinned back to the shape's multiplier of the moment by `_Shaper`.
        self.flat = shape.flat
        self.scale = shape.peak_multiplier
        self.week_mean = sum(self.profile.weekly) / 7
        # Counters are open only in the calendar's windows: an hour's weight applies to its
        # open part, renormalised so that a working day still totals the day's volume.
        local = day.astimezone(VIETNAM_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
        while not calendar.is_working_day(local.date()):
            local += timedelta(days=1)
        open_share = [
            calendar.between(local + h * HOUR, local + (h + 1) * HOUR) / HOUR for h in range(24)
        ]
        counter = self.profile.counter_hourly
        total = sum(w * f for w, f in zip(counter, open_share, strict=True))
        self.counter_per_open_hour = [
            w / total if total and f > 0 else 0.0 for w, f in zip(counter, open_share, strict=True)
        ]
        open_hours = sum(open_share)
        self.counter_flat = [1 / open_hours if f > 0 else 0.0 for f in open_share]

    def day_weight(self, local: datetime, *, counter: bool) -> float:
        working = self.calendar.is_working_day(local.date())
        return weekly_weight(self.profile, local.weekday(), working, counter=counter)

    def online(self, per_day: float) -> Any:
        per_day *= self.scale
        if self.flat:
            return lambda _: per_day * self.week_mean / 24
        return lambda local: hourly_rate(
            per_day, self.day_weight(local, counter=False), self.profile.online_hourly, local.hour
        )

    def counter(self, per_day: float) -> Any:
        """Per open hour: `poisson_instants` places these in working time only."""
        per_day *= self.scale
        if self.flat:
            return lambda local: hourly_rate(
                per_day,
                float(self.calendar.is_working_day(local.date())),
                self.counter_flat,
                local.hour,
            )
        return lambda local: hourly_rate(
            per_day, self.day_weight(local, counter=True), self.counter_per_open_hour, local.hour
        )


class _Shaper:
    """Thins arrivals drawn at the shape's peak rate down to its rate of the moment: a Poisson
    process kept with probability m(t)/peak is a Poisson process of rate m(t) (Lewis-Shedler),
    so a step or a surge needs no change to how hours are drawn."""

    def __init__(self, world: World) -> None:
        self.shape = world.shape_model
        self.real = world.timeline.real
        self.start_real = world.timeline.start_real

    def keep(self, instants: list[datetime], rng: random.Random) -> list[datetime]:
        if not self.shape.varies:
            return instants
        peak = self.shape.peak_multiplier
        offset = self.start_real
        return [
            i
            for i in instants
            if rng.random() * peak < self.shape.multiplier(self.real(i.timestamp()) - offset)
        ]


def _pick(rng: random.Random, agency: Agency) -> str:
    return rng.choices(agency.procedures, weights=agency.weights)[0]


def generate_arrivals(
    world: World, workload: Workload, partition: int, calendar: WorkingCalendar
) -> list[Arrival]:
    """Every arrival of `partition` over the run, sorted by intended start."""
    timeline = world.timeline
    start = datetime.fromtimestamp(timeline.sim_start, UTC)
    end = datetime.fromtimestamp(timeline.sim_end, UTC)
    real = timeline.real
    profile = DemandProfile(workload, calendar, start, world.shape_model)
    shaper = _Shaper(world)
    arrivals: list[Arrival] = []

    def rng(stream: str) -> random.Random:
        return random.Random(f"{world.seed}:{stream}")

    for agency in world.agencies_of(partition):
        online_rng = rng(f"{agency.code}:online")
        if workload.queueing is not None:
            online = working_time_instants(
                online_rng, calendar, start, end, workload.queueing.arrivals_per_hour * world.scale
            )
        else:
            online = poisson_instants(online_rng, start, end, profile.online(agency.online_per_day))
            online = shaper.keep(online, rng(f"{agency.code}:online:shape"))
        for number, instant in enumerate(online):
            arrivals.append(
                Arrival(
                    real(instant.timestamp()),
                    "citizen",
                    "submit",
                    {
                        "agency": agency.code,
                        "procedure": _pick(online_rng, agency),
                        "identity": identity(world, agency.code, number, workload),
                        "key": f"{world.salt}-{world.seed}-{agency.code}-{number}",
                        "place": number,
                    },
                )
            )
        counter_rng = rng(f"{agency.code}:counter")
        counter = poisson_instants(
            counter_rng, start, end, profile.counter(agency.counter_per_day), open_hours=calendar
        )
        counter = shaper.keep(counter, rng(f"{agency.code}:counter:shape"))
        for instant in counter:
            arrivals.append(
                Arrival(
                    real(instant.timestamp()),
                    "sync",
                    "counter",
                    {"agency": agency.code, "procedure": _pick(counter_rng, agency)},
                )
            )
        polls = periodic_working_instants(
            rng(f"{agency.code}:inbox"),
            calendar,
            start,
            end,
            workload.backoffice.inbox_poll_minutes,
        )
        arrivals.extend(
            Arrival(real(i.timestamp()), "backoffice", "inbox", {"agency": agency.code})
            for i in polls
        )
        if agency.counter_per_day > 0:
            pushes = periodic_working_instants(
                rng(f"{agency.code}:push"), calendar, start, end, workload.sync.batch_minutes
            )
            arrivals.extend(
                Arrival(real(i.timestamp()), "sync", "push", {"agency": agency.code})
                for i in pushes
            )
    if workload.queueing is None:
        arrivals.extend(
            _browsing(world, workload, partition, (start, end), profile, shaper, rng("browse"))
        )
        if partition == 0 and workload.reviewer.reads_per_hour > 0:
            reads = poisson_instants(
                rng("reviewer"), start, end, lambda _: workload.reviewer.reads_per_hour
            )
            arrivals.extend(Arrival(real(i.timestamp()), "reviewer", "read") for i in reads)
    arrivals.sort(key=lambda a: a.at)
    return arrivals


def _browsing(
    world: World,
    workload: Workload,
    partition: int,
    span: tuple[datetime, datetime],
    profile: DemandProfile,
    shaper: _Shaper,
    rng: random.Random,
) -> list[Arrival]:
    """Catalogue visits in proportion to the dossiers in scope; dealt to partitions in turn."""
    per_day = sum(a.online_per_day for a in world.agencies) * workload.volumes.visits_per_dossier
    visits = shaper.keep(poisson_instants(rng, *span, profile.online(per_day)), rng)
    codes = sorted(world.procedures)
    plain = workload.citizen.browse_without_diacritics
    # Drawn for every visit before dealing, so that a visit is the same whatever the workers.
    drawn = [(instant, rng.choice(codes), rng.random() < plain) for instant in visits]
    return [
        Arrival(
            world.timeline.real(instant.timestamp()),
            "browse",
            "visit",
            {"procedure": procedure, "plain": is_plain},
        )
        for number, (instant, procedure, is_plain) in enumerate(drawn)
        if number % world.partitions == partition
    ]


def identity(world: World, agency: str, number: int, workload: Workload) -> str:
    """A valid 12-digit personal identification number (a legacy province code, then nine
    digits) drawn from a pool per agency and run, so that some citizens come back and log in
    once, and no earlier run's account is reused."""
    rng = random.Random(f"{world.salt}:{world.seed}:{agency}")
    base = rng.randrange(10**5) * 10**4
    index = random.Random(f"{world.salt}:{agency}:{number}").randrange(
        min(workload.citizen.accounts_pool, 10**4)
    )
    return f"001{base + index:09d}"
