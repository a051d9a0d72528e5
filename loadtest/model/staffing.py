"""Staffing: for each agency in scope, the smallest number of officers whose predicted on-time
share reaches a target, and the share at today's staffing (harness.md, "From measurement to a
recommendation: staffing").

The prediction is an offline simulation of each back office (no HTTP, no portal) with the pieces
the harness's back offices use: the workload's demand profile and procedure popularity
(`arrivals.DemandProfile`, the world's agencies), the officers' queue (`officers.OfficerQueue`,
which `OfficerPool` runs in a load run), their service times (`officers.service_hours`), the inbox
poll, refusals, supplements, stops and fees of `[backoffice]`, and the portal's calendar: working
windows, holidays and the receipt cut-off. It runs on the working-time axis (working hours since
the first opening), where the queue and the deadlines are plain additions: an instant of the
horizon is placed on that axis through the calendar (a table of its quarter hours), so nights,
weekends and holidays count as nothing, as they do for the portal.

Each dossier's draws (arrival, procedure, work, supplement, fee wait) are made once and reused
for every number of officers (common random numbers), so the share can only grow with officers
and the search is cheap. Where harness.md's M/M/c conditions hold (a `[queueing]` workload),
Erlang C gives the share exactly and the simulation is checked against it.

Simplifications, stated: a declined card payment is not retried (the wait for fees is the payer's
first attempt, or two working hours at the counter); a dossier whose citizen never hands in a
supplement ends at the request (domain.md: "the request time counts as the end").
"""

from __future__ import annotations

import heapq
import json
import math
import time
import tomllib
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from app.core.calendar import VIETNAM_TZ, WorkingCalendar, calendar_from_settings
from app.core.config import Settings
from loadtest.model.arrivals import DemandProfile
from loadtest.model.officers import OfficerQueue, mean_service_hours, service_hours_array
from loadtest.model.queueing import MMc, batch_means_error
from loadtest.model.workload import (
    DiurnalShape,
    ScopeSection,
    Workload,
    WorkloadError,
    load_workload,
)
from loadtest.model.world import (
    Agency,
    Catalogue,
    Procedure,
    Timeline,
    World,
    build_world,
    generated_catalogue,
)
from loadtest.results_model import Section

HOUR = timedelta(hours=1)
QUARTER = timedelta(minutes=15)
WARM_UP_DAYS = 3  # working days simulated before dossiers are counted
MIN_MEASURED_DAYS = 5
MIN_MEASURED_DOSSIERS = 3000
MAX_REFINEMENTS = 2  # the measured span doubles at most this often when the answer is close
# A recommendation keeps utilisation at or below this: nearer 1, a few percent more demand than
# the sample's leaves the queue without bound, whatever its share over the simulated weeks.
MAX_UTILISATION = 0.98
MAX_EXTRA_OFFICERS = 200  # beyond the offered load: a target no staffing reaches is said so


class StaffingError(WorkloadError):
    """A staffing request that cannot be answered: one line for the user."""


# ---------------------------------------------------------------------------------------------
# The report (staffing.json, `portalsim.staffing/1`): frozen, keys in the file's order, built
# on results.json's `Section` (extra keys refused, keys without a value absent, not null)


class ShareFigure(Section):
    """An on-time share, its 95% sampling error and the dossiers behind it; in the M/M/c case
    Erlang C's share (error 0) with the simulation's beside it."""

    omitted_when_none: ClassVar[frozenset[str]] = frozenset({"simulated", "simulated_error"})

    share: float
    error: float
    n: int
    simulated: float | None = None
    simulated_error: float | None = None


class AgencyRow(Section):
    """One agency: its demand, today's staffing and share, and the recommendation."""

    omitted_when_none: ClassVar[frozenset[str]] = frozenset({"erlang_c"})

    code: str
    name: str
    level: str
    arrivals_per_day: float
    offered_load: float  # erlangs
    officers: int
    utilisation: float
    current: ShareFigure
    meets_target: bool
    recommended: int | None  # None: no staffing within the search's limit reaches the target
    recommended_utilisation: float | None
    at_recommended: ShareFigure | None
    firm: bool
    curve: list[tuple[int, float, float]]  # (officers, simulated share, its error)
    erlang_c: dict[str, float] | None = None  # M/M/c: Erlang C's share by officers


class LevelSummary(Section):
    """One level's agencies: how many miss the target today, officers today and recommended,
    and the dossier-weighted share with each."""

    agencies: int
    missing_target: int
    officers: int
    officers_recommended: int
    unreachable: int
    share: float
    share_recommended: float


class CalendarFigures(Section):
    day_hours: float
    cutoff_working_hours: float | None  # None: no agency was simulated


class StaffingReport(Section):
    """`portalsim staffing`'s answer, as staffing.json holds it."""

    format: Literal["portalsim.staffing/1"] = Field("portalsim.staffing/1", alias="schema")
    workload: str
    scale: float
    seed: int
    target: float
    method: str
    calendar: CalendarFigures
    seconds: float
    agencies: list[AgencyRow]
    levels: dict[str, LevelSummary]
    officers: dict[str, int]  # what `portalsim run --staffing` reads

    def to_json(self) -> str:
        return json.dumps(self.model_dump(by_alias=True), indent=2, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# The horizon on the working-time axis


class Axis:
    """The horizon from `start`, hour by hour: where each quarter hour falls in working hours
    since `origin` (the first opening at or after the start's local midnight), and the demand
    profile's arrivals per hour at one dossier per average working day."""

    def __init__(
        self, workload: Workload, calendar: WorkingCalendar, start: datetime, hours: int
    ) -> None:
        local = start.astimezone(VIETNAM_TZ)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        self.origin = calendar.add(midnight, 0 * HOUR)
        self.day = calendar.working_day_length / HOUR
        self.cutoff = _worked_before_cutoff(calendar, self.origin)
        self.quarters = _quarters(calendar, self.origin, start, hours)
        profile = DemandProfile(workload, calendar, start, DiurnalShape())
        online, counter = profile.online(1.0), profile.counter(1.0)
        local_hours = [(start + h * HOUR).astimezone(VIETNAM_TZ) for h in range(hours)]
        self.online_rate = np.array([float(online(at)) for at in local_hours])
        open_hours = self.quarters[4::4] - self.quarters[:-4:4]
        self.counter_mass = np.array([float(counter(at)) for at in local_hours]) * open_hours

    @property
    def end(self) -> float:
        return float(self.quarters[-1])

    def working(self, hours: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The working-time coordinates of instants `hours` clock hours after the start."""
        found: npt.NDArray[np.float64] = np.interp(
            hours * 4, np.arange(len(self.quarters)), self.quarters
        )
        return found

    def clock_start(self, accepted: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """When the due clock starts for dossiers accepted at `accepted`: the next working
        day's opening for those that came after the receipt cut-off."""
        day = np.floor(accepted / self.day)
        late = accepted - day * self.day > self.cutoff + 1e-9
        return np.where(late, (day + 1) * self.day, accepted)

    def online_arrivals(self, rng: np.random.Generator, per_day: float) -> npt.NDArray[np.float64]:
        """A Poisson stream of the online profile (round the clock, a rate per clock hour),
        placed on the working-time axis: night arrivals wait for the opening."""
        counts = rng.poisson(self.online_rate * per_day)
        hours = np.repeat(np.arange(len(counts)), counts) + rng.random(int(counts.sum()))
        return self.working(hours)

    def counter_arrivals(self, rng: np.random.Generator, per_day: float) -> npt.NDArray[np.float64]:
        """Counters are open in working time only, at a rate per open hour: uniform over each
        hour's open part."""
        counts = rng.poisson(self.counter_mass * per_day)
        hour = np.repeat(np.arange(len(counts)), counts)
        low, high = self.quarters[4 * hour], self.quarters[4 * hour + 4]
        found: npt.NDArray[np.float64] = low + (high - low) * rng.random(len(hour))
        return found


def _quarters(
    calendar: WorkingCalendar, origin: datetime, start: datetime, hours: int
) -> npt.NDArray[np.float64]:
    """Working hours since `origin` at each quarter hour from `start`: every working day has the
    windows' shape (taken from the calendar on the origin's day), other days add nothing."""
    midnight = origin.astimezone(VIETNAM_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    shape = np.array([calendar.between(midnight, midnight + q * QUARTER) / HOUR for q in range(96)])
    local = start.astimezone(VIETNAM_TZ)
    first = local.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = round((local - first) / QUARTER)
    days = math.ceil((offset + 4 * hours + 1) / 96)
    working = np.array(
        [calendar.is_working_day(first.date() + timedelta(days=d)) for d in range(days + 1)]
    )
    day_hours = calendar.working_day_length / HOUR
    before = np.concatenate([[0.0], np.cumsum(working * day_hours)[:-1]])
    grid = (before[:, None] + np.where(working[:, None], shape[None, :], 0.0)).ravel()
    found: npt.NDArray[np.float64] = grid[offset : offset + 4 * hours + 1]
    return found


def _worked_before_cutoff(calendar: WorkingCalendar, opening: datetime) -> float:
    """Working hours of a working day before its receipt cut-off (the day's length when the
    cut-off is its end): the latest point of the day whose due clock still starts that day."""
    day = opening.astimezone(VIETNAM_TZ).date()
    low, high = 0.0, calendar.working_day_length / HOUR
    for _ in range(30):
        middle = (low + high) / 2
        instant = calendar.add(opening, timedelta(hours=middle))
        if calendar.clock_start(instant).astimezone(VIETNAM_TZ).date() == day:
            low = middle
        else:
            high = middle
    return round(low * 3600) / 3600


# ---------------------------------------------------------------------------------------------
# One back office's dossiers, drawn once


@dataclass(slots=True)
class Dossiers:
    """What does not depend on the number of officers, one entry per dossier the office works,
    sorted by `ready`: when it is queued for an officer, its due instant and acceptance (working
    hours), its work, and what follows the officer's work."""

    ready: list[float] = field(default_factory=list)  # also the acceptance
    due: list[float] = field(default_factory=list)
    work: list[float] = field(default_factory=list)
    # > 0: a supplement requested when the work is done, handed in that many working hours
    # later (the due date moves as much), then `rework` more hours; < 0: never handed in.
    pause: list[float] = field(default_factory=list)
    rework: list[float] = field(default_factory=list)
    after: list[float] = field(default_factory=list)  # from the work's end to the decision

    def __len__(self) -> int:
        return len(self.ready)


def draw_dossiers(
    workload: Workload,
    axis: Axis,
    agency: Agency,
    procedures: dict[str, Procedure],
    scale: float,
    rng: np.random.Generator,
) -> Dossiers:
    """The agency's dossiers over the axis, as the harness's citizens, counters and back office
    make them (loadtest/drive/users/: intake at the next inbox poll, refusals, supplements, stops,
    fees)."""
    rules, citizen = workload.backoffice, workload.citizen
    queueing = workload.queueing
    if queueing is not None:  # flat over working time, online only: harness.md's M/M/c case
        count = rng.poisson(queueing.arrivals_per_hour * scale * axis.end)
        online = np.sort(rng.uniform(0.0, axis.end, count))
        counter = np.empty(0)
    else:
        online = axis.online_arrivals(rng, agency.online_per_day)
        counter = axis.counter_arrivals(rng, agency.counter_per_day)
    submitted = np.concatenate([online, counter])
    count = len(submitted)
    is_online = np.arange(count) < len(online)
    legal_of = np.array([procedures[code].legal_hours for code in agency.procedures])
    fees_of = np.array([procedures[code].fees_total > 0 for code in agency.procedures])
    cumulative = np.cumsum(agency.weights)
    pick = np.minimum(
        np.searchsorted(cumulative, rng.random(count) * cumulative[-1]), len(legal_of) - 1
    )
    legal = legal_of[pick]
    # Online dossiers are taken in at the back office's next inbox poll.
    poll = rules.inbox_poll_minutes / 60
    phase = rng.uniform(0, poll)
    polled = phase + np.maximum(0.0, np.ceil((submitted - phase) / poll)) * poll
    ready = np.where(is_online, polled, submitted)
    keep = np.ones(count, dtype=bool)
    pause, rework, after = np.zeros(count), np.zeros(count), np.zeros(count)
    if queueing is None:
        intake = rng.random(count)
        refused = is_online & (intake < rules.refuse_at_intake)
        at_intake = (
            is_online & ~refused & (intake < rules.refuse_at_intake + rules.supplement_at_intake)
        )
        # A citizen who never hands the supplement in: stopped before acceptance, no due date.
        keep = ~refused & ~(at_intake & (rng.random(count) < citizen.supplement_never))
        # Accepted when the citizen hands the supplement in.
        reaction = rng.exponential(citizen.supplement_reaction_hours, count)
        ready = np.where(at_intake, ready + reaction, ready)
        asked = is_online & ~at_intake & (rng.random(count) < rules.supplement_in_processing)
        never_back = rng.random(count) < citizen.supplement_never
        comes_back = rng.exponential(citizen.supplement_reaction_hours, count)
        pause = np.where(asked, np.where(never_back, -1.0, comes_back), 0.0)
        rework = np.where(pause > 0, service_hours_array(workload, rng, legal), 0.0)
        stopped = rng.random(count) < rules.stop_probability
        paid_online = rng.random(count) < workload.volumes.online_payment_share
        fee_wait = np.where(paid_online, rng.exponential(1.0, count), 2.0)
        after = np.where(is_online & (pause >= 0) & ~stopped & fees_of[pick], fee_wait, 0.0)
    due = axis.clock_start(ready) + legal
    work = service_hours_array(workload, rng, legal)
    order = np.argsort(ready[keep], kind="stable")
    ready, due, work, pause, rework, after = (
        column[keep][order].tolist() for column in (ready, due, work, pause, rework, after)
    )
    return Dossiers(ready, due, work, pause, rework, after)


def decided_at(dossiers: Dossiers, officers: int) -> tuple[list[float], list[float]]:
    """Each dossier's decision (status 9 or 8) and final due instant with `officers` officers,
    first come first served in the order dossiers become ready."""
    assign = OfficerQueue(officers).assign
    decided = [0.0] * len(dossiers)
    due = list(dossiers.due)
    returning: list[tuple[float, int]] = []  # (ready again, index): supplements handed in

    def rework(until: float) -> None:
        while returning and returning[0][0] < until:
            again, which = heapq.heappop(returning)
            decided[which] = assign(again, dossiers.rework[which])[1] + dossiers.after[which]

    after, pauses = dossiers.after, dossiers.pause
    for index, (ready, work) in enumerate(zip(dossiers.ready, dossiers.work, strict=True)):
        if returning and returning[0][0] < ready:
            rework(ready)
        done = assign(ready, work)[1]
        pause = pauses[index]
        if pause > 0:
            due[index] += pause
            heapq.heappush(returning, (done + pause, index))
        else:
            decided[index] = done if pause < 0 else done + after[index]
    rework(math.inf)
    return decided, due


# ---------------------------------------------------------------------------------------------
# Shares


@dataclass(frozen=True, slots=True)
class Share:
    """An on-time share over `n` dossiers, with the 95% half-width of its sampling error."""

    value: float
    error: float
    n: int

    def figure(self) -> ShareFigure:
        return ShareFigure(share=round(self.value, 4), error=round(self.error, 4), n=self.n)


def steady_share(dossiers: Dossiers, officers: int, span: tuple[float, float]) -> Share:
    """The on-time share of the dossiers accepted within `span`, and its error from batch means
    (`queueing.batch_means_error`: dossiers in a queue are correlated, a plain binomial error
    would be too small). Too few dossiers for batch means give an error of 1: no answer is firm
    on them."""
    decided, due = (np.array(column) for column in decided_at(dossiers, officers))
    accepted = np.array(dossiers.ready)  # sorted: the batches are consecutive by acceptance
    low, high = span
    inside = (accepted >= low) & (accepted < high)
    on_time = (decided <= due + 1e-9)[inside]
    n = len(on_time)
    if n == 0:
        return Share(1.0, 0.0, 0)
    error = batch_means_error(on_time.tolist())
    return Share(float(on_time.sum()) / n, 1.0 if error is None else error, n)


# ---------------------------------------------------------------------------------------------
# The recommendation for one agency


@dataclass(slots=True)
class AgencyStaffing:
    agency: Agency
    arrivals_per_day: float
    offered_load: float  # erlangs: work hours per working hour
    current: Share
    recommended: int | None  # None: no staffing up to the search's limit reaches the target
    at_recommended: Share | None
    firm: bool  # the sampling error cannot change the recommended count
    curve: dict[int, Share]
    erlang: dict[int, float] = field(default_factory=dict)  # M/M/c: the exact share by officers

    @property
    def utilisation(self) -> float:
        return self.offered_load / self.agency.officers

    def figure(self, officers: int) -> ShareFigure:
        """The share with `officers`: Erlang C's where M/M/c holds (the simulation beside it),
        else the simulation's with its error."""
        simulated = self.curve[officers]
        exact = self.erlang.get(officers)
        if exact is None:
            return simulated.figure()
        return ShareFigure(
            share=round(exact, 4),
            error=0.0,
            n=simulated.n,
            simulated=round(simulated.value, 4),
            simulated_error=round(simulated.error, 4),
        )

    def row(self, target: float) -> AgencyRow:
        a = self.agency
        current = self.figure(a.officers)
        return AgencyRow(
            code=a.code,
            name=a.name,
            level=a.level,
            arrivals_per_day=round(self.arrivals_per_day, 2),
            offered_load=round(self.offered_load, 3),
            officers=a.officers,
            utilisation=round(self.utilisation, 4),
            current=current,
            meets_target=current.share >= target,
            recommended=self.recommended,
            recommended_utilisation=(
                round(self.offered_load / self.recommended, 4) if self.recommended else None
            ),
            at_recommended=self.figure(self.recommended) if self.recommended else None,
            firm=self.firm,
            curve=[
                (c, round(s.value, 4), round(s.error, 4)) for c, s in sorted(self.curve.items())
            ],
            erlang_c=(
                {str(c): round(v, 4) for c, v in self.erlang.items()} if self.erlang else None
            ),
        )


class Office:
    """One agency's back office over a horizon long enough for the answer: dossiers are drawn
    once, then shared by every number of officers tried."""

    def __init__(
        self,
        workload: Workload,
        calendar: WorkingCalendar,
        world: World,
        agency: Agency,
        axes: dict[int, Axis],
    ) -> None:
        self.workload, self.calendar, self.world, self.agency = workload, calendar, world, agency
        self.axes = axes
        per_day = self.per_day
        self.measured_days = max(
            MIN_MEASURED_DAYS, math.ceil(MIN_MEASURED_DOSSIERS / max(per_day, 1e-9))
        )
        self._draw()

    @property
    def per_day(self) -> float:
        queueing = self.workload.queueing
        if queueing is not None:
            day = self.calendar.working_day_length / HOUR
            return queueing.arrivals_per_hour * self.world.scale * day
        return self.agency.online_per_day + self.agency.counter_per_day

    def _draw(self) -> None:
        days = WARM_UP_DAYS + self.measured_days
        axis = axis_for(self.axes, self.workload, self.calendar, days)
        rng = np.random.default_rng(
            [self.world.seed, zlib.crc32(self.agency.code.encode()), self.measured_days]
        )
        self.dossiers = draw_dossiers(
            self.workload, axis, self.agency, self.world.procedures, self.world.scale, rng
        )
        self.span = (WARM_UP_DAYS * axis.day, days * axis.day)
        self.shares: dict[int, Share] = {}

    @property
    def offered_load(self) -> float:
        """Erlangs: the expected work per working hour (the officers busy on average), from the
        service-time distribution, not from the sample, so that the bound below is stable."""
        workload, agency = self.workload, self.agency
        queueing = workload.queueing
        if queueing is not None:
            return queueing.arrivals_per_hour * self.world.scale * queueing.service_mean_hours
        rules, never = workload.backoffice, workload.citizen.supplement_never
        per_dossier = math.fsum(
            weight * mean_service_hours(workload, self.world.procedures[code].legal_hours)
            for code, weight in zip(agency.procedures, agency.weights, strict=True)
        )
        # Online: refusals need no work, supplements in processing need it twice.
        online = agency.online_per_day * (1 - rules.refuse_at_intake)
        online *= 1 + rules.supplement_in_processing * (1 - never)
        day = self.calendar.working_day_length / HOUR
        return (online + agency.counter_per_day) * per_dossier / day

    def share(self, officers: int) -> Share:
        if officers not in self.shares:
            self.shares[officers] = steady_share(self.dossiers, officers, self.span)
        return self.shares[officers]

    def refine(self) -> bool:
        """Double the measured span (a new draw); False once the limit is reached."""
        if self.measured_days >= MIN_MEASURED_DAYS * 2**MAX_REFINEMENTS and (
            self.measured_days * self.per_day >= MIN_MEASURED_DOSSIERS * 2**MAX_REFINEMENTS
        ):
            return False
        self.measured_days *= 2
        self._draw()
        return True


def axis_for(
    axes: dict[int, Axis], workload: Workload, calendar: WorkingCalendar, days: int
) -> Axis:
    """An axis covering `days` working days from the workload's start (kept: agencies share)."""
    for _, axis in sorted(axes.items()):
        if axis.end >= days * axis.day:
            return axis
    start = workload.run.start
    start = start if start.tzinfo else start.replace(tzinfo=VIETNAM_TZ)
    hours = 24 * 7 * math.ceil(days / 5 + 2)  # weeks of five working days, and holidays
    while True:
        axis = Axis(workload, calendar, start.astimezone(UTC), hours)
        if axis.end >= days * axis.day:
            axes[hours] = axis
            return axis
        hours *= 2


def recommend(office: Office, target: float) -> AgencyStaffing:
    """The smallest number of officers whose share reaches `target`, counting up from the
    offered load, with the share at today's staffing. In the M/M/c case Erlang C answers exactly
    (the simulation is shown beside it); otherwise the simulation answers, its measured span
    growing until the sampling error cannot change the count (or a limit: `firm` is then
    false)."""
    if office.workload.queueing is not None:
        found: int | None = _erlang_count(office, target)
        firm = found is not None
    else:
        while True:
            least = max(1, math.ceil(office.offered_load / MAX_UTILISATION))
            found = next(
                (
                    c
                    for c in range(least, least + MAX_EXTRA_OFFICERS + 1)
                    if office.share(c).value >= target
                ),
                None,
            )
            firm = found is not None and _firm(office, found, target)
            if firm or not office.refine():
                break
    current = office.share(office.agency.officers)
    at_recommended = office.share(found) if found is not None else None
    return AgencyStaffing(
        agency=office.agency,
        arrivals_per_day=office.per_day,
        offered_load=office.offered_load,
        current=current,
        recommended=found,
        at_recommended=at_recommended,
        firm=firm,
        curve=dict(office.shares),
        erlang=_erlang(office),
    )


def _erlang_count(office: Office, target: float) -> int | None:
    """harness.md: the smallest c reaching the target, counting up from ceil(a)."""
    queueing = office.workload.queueing
    assert queueing is not None
    rate = queueing.arrivals_per_hour * office.world.scale
    least = math.floor(office.offered_load) + 1
    for c in range(least, least + MAX_EXTRA_OFFICERS + 1):
        if (
            MMc(rate, queueing.service_mean_hours, c).on_time_share(queueing.deadline_hours)
            >= target
        ):
            return c
    return None


def _firm(office: Office, found: int, target: float) -> bool:
    """No share within its sampling error of the target on either side of the answer."""
    at = office.share(found)
    if at.value - at.error < target and at.value < 1.0:
        return False
    if found - 1 < office.offered_load / MAX_UTILISATION:
        return True
    below = office.share(found - 1)
    return below.value + below.error < target


def _erlang(office: Office) -> dict[int, float]:
    """Erlang C's share for each number of officers simulated, in the M/M/c case."""
    queueing = office.workload.queueing
    if queueing is None:
        return {}
    rate = queueing.arrivals_per_hour * office.world.scale
    return {
        c: MMc(rate, queueing.service_mean_hours, c).on_time_share(queueing.deadline_hours)
        for c in sorted(office.shares)
        if rate * queueing.service_mean_hours < c
    }


# ---------------------------------------------------------------------------------------------
# The whole scope


def staffing_world(
    workload: Workload,
    *,
    scale: float,
    seed: int,
    agencies: int | None,
    catalogue: Catalogue,
    workload_name: str,
) -> World:
    """The run's world without a run: the same agencies in scope, demand and staffing."""
    if agencies is not None:
        if workload.queueing is not None:
            raise StaffingError("--agencies: a [queueing] workload names its agencies itself")
        workload = workload.model_copy(update={"scope": ScopeSection(agencies=agencies)})
    now = time.time()
    start = workload.run.start
    start = start if start.tzinfo else start.replace(tzinfo=VIETNAM_TZ)
    try:
        return build_world(
            workload,
            catalogue,
            timeline=Timeline(now, start.timestamp(), 1.0, now, 1.0),
            scale=scale,
            seed=seed,
            salt="STAFF",
            workload_name=workload_name,
        )
    except WorkloadError as error:
        raise StaffingError(str(error)) from None


def staffing_report(
    workload: Workload,
    world: World,
    calendar: WorkingCalendar,
    *,
    target: float,
    workload_name: str,
) -> StaffingReport:
    """Every agency of the world: the recommendation, a summary per level, and the officers
    map `portalsim run --staffing` reads."""
    if not 0 < target < 1:
        raise StaffingError(f"--target {target:g}: an on-time share between 0 and 1 (e.g. 0.95)")
    began = time.perf_counter()
    axes: dict[int, Axis] = {}
    results = [
        recommend(Office(workload, calendar, world, agency, axes), target)
        for agency in world.agencies
    ]
    rows = [r.row(target) for r in results]
    return StaffingReport(
        workload=workload_name,
        scale=world.scale,
        seed=world.seed,
        target=target,
        method=("simulation, checked against Erlang C" if workload.queueing else "simulation"),
        calendar=CalendarFigures(
            day_hours=calendar.working_day_length / HOUR,
            cutoff_working_hours=next(iter(axes.values())).cutoff if axes else None,
        ),
        seconds=round(time.perf_counter() - began, 2),
        agencies=rows,
        levels=level_summary(rows, target),
        officers={row.code: row.recommended or row.officers for row in rows},
    )


def level_summary(rows: list[AgencyRow], target: float) -> dict[str, LevelSummary]:
    """Per level: agencies, how many miss the target today, officers today and recommended,
    and the dossier-weighted share with each."""
    levels: dict[str, LevelSummary] = {}
    for level in ("central", "province", "commune"):
        group = [r for r in rows if r.level == level]
        if not group:
            continue
        weight = sum(r.arrivals_per_day for r in group) or 1.0
        recommended = [r for r in group if r.recommended is not None]
        levels[level] = LevelSummary(
            agencies=len(group),
            missing_target=sum(1 for r in group if r.current.share < target),
            officers=sum(r.officers for r in group),
            officers_recommended=sum(r.recommended or r.officers for r in group),
            unreachable=len(group) - len(recommended),
            share=round(sum(r.current.share * r.arrivals_per_day for r in group) / weight, 4),
            share_recommended=round(
                sum((r.at_recommended or r.current).share * r.arrivals_per_day for r in group)
                / weight,
                4,
            ),
        )
    return levels


def calendar_for(workload: Workload, settings: Settings) -> WorkingCalendar:
    """The calendar of the servers a run of `workload` starts: the settings', with a
    [queueing] workload's windows and the receipt cut-off at their end (loadtest/drive/run.py)."""
    queueing = workload.queueing
    if queueing is not None:
        settings = settings.model_copy(
            update={
                "calendar_windows": queueing.windows,
                "calendar_cutoff": queueing.windows[-1][1],
            }
        )
    return calendar_from_settings(settings)


def plan_staffing(
    workload_path: Path,
    *,
    scale: float | None,
    seed: int | None,
    agencies: int | None,
    target: float,
    settings: Settings,
) -> StaffingReport:
    """`portalsim staffing`: the world a run of the workload would play in, built from the
    catalogue generator (the catalogue a portal started on an empty database serves, so no
    portal is needed), and every agency's recommendation."""
    workload = load_workload(workload_path)
    if scale is not None and scale <= 0:
        raise StaffingError(f"--scale {scale:g}: must be positive")
    world = staffing_world(
        workload,
        scale=scale if scale is not None else workload.run.scale,
        seed=seed if seed is not None else workload.run.seed,
        agencies=agencies,
        catalogue=generated_catalogue(settings.catalogue_seed, settings.communes_per_province),
        workload_name=str(workload_path),
    )
    return staffing_report(
        workload,
        world,
        calendar_for(workload, settings),
        target=target,
        workload_name=str(workload_path),
    )


def read_officers(path: Path) -> dict[str, int]:
    """Officers by agency code from `--staffing FILE`: the JSON `portalsim staffing` wrote (its
    `officers`), or a TOML file with an `[officers]` table ("CODE" = N)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise StaffingError(f"--staffing {path}: {error.strerror or error}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        kind = path.suffix[1:] or "TOML"
        raise StaffingError(f"--staffing {path}: not valid {kind}: {error}") from None
    officers = data.get("officers") if isinstance(data, dict) else None
    if not isinstance(officers, dict) or not officers:
        raise StaffingError(f'--staffing {path}: no officers table ("CODE" = officers)')
    for code, count in officers.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise StaffingError(
                f"--staffing {path}: officers.{code} = {count!r}: a whole number >= 1"
            )
    return {str(code): int(count) for code, count in officers.items()}


# ---------------------------------------------------------------------------------------------
# A run staffed with --staffing: the prediction of its own window beside what it measured
