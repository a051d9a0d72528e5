"""The world a run plays in: the catalogue snapshot, the agencies in scope with their staffing and
procedure popularity, the time line shared by every worker, and the plan. Built once, on the
master (or the only process), from the portal's public API, then sent to every worker."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from app.catalogue.schemas import AgencyOut, FeeOut, ProcedureOut
from app.core.calendar import VIETNAM_TZ
from loadtest.model.workload import (
    LEVELS,
    SHAPES,
    DiurnalShape,
    Level,
    SoakShape,
    StepShape,
    Workload,
    WorkloadError,
    agency_demand,
    officers_for,
    service_mean_share,
)
from loadtest.results_model import PlanSection

WORKING_DAY_HOURS = 8.0  # the calendar's default windows; used only to size the plan


@dataclass(frozen=True, slots=True)
class Procedure:
    code: str
    name: str
    level: Level
    field: str
    legal_hours: float  # the processing time in working hours
    processing_time: int
    processing_unit: str
    fees_total: int
    online_level: str


@dataclass(slots=True)
class Agency:
    code: str
    name: str
    level: Level
    province_code: int | None
    procedures: list[str]  # the procedures it receives, most popular first
    weights: list[float]  # Zipf weights of `procedures`, summing to 1
    online_per_day: float
    counter_per_day: float
    officers: int
    partition: int = 0


@dataclass(frozen=True, slots=True)
class Timeline:
    """Real time <-> simulated time. The portal's clock is `sim = sim_at_zero + (real - zero) *
    speed`; arrivals are placed on it from `start_real` for `real_seconds`."""

    real_zero: float  # a wall-clock instant (time.time())
    sim_at_zero: float  # the portal's virtual instant then (a UTC timestamp)
    speed: float
    start_real: float
    real_seconds: float

    def sim(self, real: float) -> float:
        return self.sim_at_zero + (real - self.real_zero) * self.speed

    def real(self, sim: float) -> float:
        return self.real_zero + (sim - self.sim_at_zero) / self.speed

    @property
    def sim_start(self) -> float:
        return self.sim(self.start_real)

    @property
    def sim_end(self) -> float:
        return self.sim(self.start_real + self.real_seconds)

    def sim_datetime(self, real: float) -> datetime:
        return datetime.fromtimestamp(self.sim(real), UTC)


@dataclass(slots=True)
class World:
    seed: int
    salt: str  # distinguishes this run's identities, keys and codes from earlier runs' data
    scale: float
    timeline: Timeline
    procedures: dict[str, Procedure]
    agencies: list[Agency]
    partitions: int = 1
    plan: PlanSection | None = None  # None only in a world built for a test of its parts
    shape: dict[str, Any] = field(default_factory=lambda: {"name": "diurnal"})

    @property
    def shape_model(self) -> DiurnalShape:
        return SHAPES[self.shape["name"]].model_validate(self.shape)

    def require_plan(self) -> PlanSection:
        """The plan: every world `build_world` makes has one."""
        if self.plan is None:
            raise WorkloadError("this world was built without a plan")
        return self.plan

    @property
    def pools(self) -> dict[str, int]:
        """Locust users per actor, as planned."""
        return dict(self.plan.pools) if self.plan is not None else {}

    def as_message(self) -> dict[str, Any]:
        message = asdict(self)
        message["plan"] = self.plan.model_dump(mode="json") if self.plan is not None else {}
        return message

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> World:
        return cls(
            seed=data["seed"],
            salt=data["salt"],
            scale=data["scale"],
            timeline=Timeline(**data["timeline"]),
            procedures={k: Procedure(**v) for k, v in data["procedures"].items()},
            agencies=[Agency(**a) for a in data["agencies"]],
            partitions=data["partitions"],
            plan=PlanSection.model_validate(data["plan"]) if data["plan"] else None,
            shape=data["shape"],
        )

    def agencies_of(self, partition: int) -> list[Agency]:
        return [a for a in self.agencies if a.partition == partition]

    def partition(self, count: int) -> None:
        """Deal the agencies to `count` workers: every actor of an agency lives on one worker,
        so a dossier's whole life is simulated in one process."""
        self.partitions = max(1, count)
        ordered = sorted(self.agencies, key=lambda a: -(a.online_per_day + a.counter_per_day))
        for index, agency in enumerate(ordered):
            agency.partition = index % self.partitions


def legal_hours(processing_time: int, unit: str) -> float:
    return processing_time * (WORKING_DAY_HOURS if unit == "working_day" else 1.0)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The portal's procedures and agencies, in its public API's schemas."""

    procedures: list[ProcedureOut]
    agencies: list[AgencyOut]


def procedure_from_api(item: ProcedureOut) -> Procedure:
    return Procedure(
        code=item.code,
        name=item.name,
        level=item.agency_level,
        field=item.field,
        legal_hours=legal_hours(item.processing_time, item.processing_unit),
        processing_time=item.processing_time,
        processing_unit=item.processing_unit,
        fees_total=sum(fee.amount for fee in item.fees),
        online_level=item.online_level,
    )


def zipf_weights(count: int, exponent: float) -> list[float]:
    raw = [1.0 / (rank**exponent) for rank in range(1, count + 1)]
    total = sum(raw)
    return [w / total for w in raw]


def apportion(seats: int, shares: dict[Level, float]) -> dict[Level, int]:
    """`seats` split in proportion to `shares`, at least one for each positive share (while
    seats last), the sizes closest to their quotas, adding up to `seats` exactly."""
    total = sum(v for v in shares.values() if v > 0)
    if total <= 0 or seats <= 0:
        return dict.fromkeys(shares, 0)
    quota = {k: seats * v / total for k, v in shares.items() if v > 0}
    counts = {k: max(1, int(q)) for k, q in quota.items()}
    while sum(counts.values()) > seats:
        over = max((k for k in counts if counts[k] > 0), key=lambda k: counts[k] - quota[k])
        counts[over] -= 1
    while sum(counts.values()) < seats:
        counts[max(counts, key=lambda k: quota[k] - counts[k])] += 1
    return {k: counts.get(k, 0) for k in shares}


def _sample_scope(
    agencies: list[AgencyOut], workload: Workload, rng: random.Random
) -> list[AgencyOut]:
    """A sample of `scope.agencies` agencies, stratified by level in proportion to the levels'
    dossier shares (each level with a share gets at least one), in a seeded order."""
    wanted = workload.scope.agencies
    if wanted == 0 or wanted >= len(agencies):
        return list(agencies)
    by_level = {level: [a for a in agencies if a.level == level] for level in LEVELS}
    shares = {lv: workload.levels.share(lv) for lv in LEVELS if by_level[lv]}
    counts = apportion(wanted, shares)
    chosen: list[AgencyOut] = []
    for level, count in counts.items():
        pool = sorted(by_level[level], key=lambda a: a.code)
        chosen.extend(rng.sample(pool, min(count, len(pool))))
    return chosen


def build_world(
    workload: Workload,
    catalogue: Catalogue,
    *,
    timeline: Timeline,
    scale: float,
    seed: int,
    salt: str,
    workload_name: str,
    shape: DiurnalShape | None = None,
    staffing: Mapping[str, int] | None = None,
) -> World:
    """The world from the portal's catalogue (`GET /api/v1/procedures` and `/agencies` items).
    `staffing` (officers by agency code, from `--staffing`) replaces the workload's staffing of
    the agencies it names; an agency it names that the catalogue lacks is refused."""
    procedures = {p.code: p for p in map(procedure_from_api, catalogue.procedures)}
    choose = _queueing_scope if workload.queueing is not None else _mixed_scope
    scoped = choose(workload, procedures, catalogue.agencies, scale, seed)
    if staffing:
        unknown = sorted(set(staffing) - {a.code for a in catalogue.agencies})
        if unknown:
            raise WorkloadError(
                f"--staffing names {len(unknown)} agencies the catalogue lacks, e.g. {unknown[0]}"
            )
        for agency in scoped:
            agency.officers = staffing.get(agency.code, agency.officers)
    used = {code for a in scoped for code in a.procedures}
    world = World(
        seed=seed,
        salt=salt,
        scale=scale,
        timeline=timeline,
        procedures={code: procedures[code] for code in sorted(used)},
        agencies=scoped,
        shape=(shape or DiurnalShape()).model_dump(),
    )
    if isinstance(shape, StepShape):
        # One national peak, in multiples of this run's flat demand at the week's mean rate.
        world.shape = SoakShape().model_dump()
        flat = make_plan(workload, world, workload_name)
        unit = flat.national_peak_rps / flat.demand_rps if flat.demand_rps else 1.0
        world.shape = shape.model_copy(update={"unit": unit}).model_dump()
    world.plan = make_plan(workload, world, workload_name).section()
    return world


def _mixed_scope(
    workload: Workload,
    catalogue: dict[str, Procedure],
    agencies: list[AgencyOut],
    scale: float,
    seed: int,
) -> list[Agency]:
    """The sampled agencies, each with its procedures by popularity, demand and staffing."""
    rng = random.Random(seed)
    per_level = {lv: sum(1 for a in agencies if a.level == lv) for lv in LEVELS}
    mean_share = service_mean_share(workload.backoffice)
    scoped: list[Agency] = []
    for item in _sample_scope(agencies, workload, rng):
        level = item.level
        fields = set(item.field_codes)
        received = sorted(
            (p for p in catalogue.values() if p.level == level and p.field in fields),
            key=lambda p: p.code,
        )
        if not received:
            continue
        rng.shuffle(received)
        weights = zipf_weights(len(received), workload.catalogue.zipf_exponent)
        demand = agency_demand(workload, level, per_level[level], scale)
        work_hours = demand.per_day * sum(
            w * max(p.legal_hours * mean_share, workload.backoffice.service_min_hours)
            for p, w in zip(received, weights, strict=True)
        )
        scoped.append(
            Agency(
                code=item.code,
                name=item.name,
                level=level,
                province_code=item.province_code,
                procedures=[p.code for p in received],
                weights=weights,
                online_per_day=demand.online_per_day,
                counter_per_day=demand.counter_per_day,
                officers=officers_for(workload, level, work_hours, WORKING_DAY_HOURS),
            )
        )
    if not scoped:
        raise WorkloadError("no agency in scope receives any procedure of the catalogue")
    return scoped


def _queueing_scope(
    workload: Workload,
    catalogue: dict[str, Procedure],
    agencies: list[AgencyOut],
    scale: float,
    seed: int,
) -> list[Agency]:
    """N identical agencies receiving one procedure of D working hours, c officers each."""
    queueing = workload.queueing
    assert queueing is not None
    deadline = float(queueing.deadline_hours)
    candidates = sorted(
        (p for p in catalogue.values() if p.level == queueing.level and p.legal_hours == deadline),
        key=lambda p: (p.fees_total, p.code),
    )
    for procedure in candidates:
        receiving = sorted(
            (
                a
                for a in agencies
                if a.level == procedure.level and procedure.field in a.field_codes
            ),
            key=lambda a: a.code,
        )
        if len(receiving) >= queueing.agencies:
            break
    else:
        raise WorkloadError(
            f"queueing: no {queueing.level} procedure of {queueing.deadline_hours} working hours "
            f"is received by {queueing.agencies} agencies"
        )
    per_day = queueing.arrivals_per_hour * queueing.day_hours * scale
    return [
        Agency(
            code=item.code,
            name=item.name,
            level=queueing.level,
            province_code=item.province_code,
            procedures=[procedure.code],
            weights=[1.0],
            online_per_day=per_day,
            counter_per_day=0.0,
            officers=queueing.officers,
        )
        for item in random.Random(seed).sample(receiving, queueing.agencies)
    ]


@dataclass(frozen=True, slots=True)
class Plan:
    """The resolved plan of a run: what each actor offers in real time, unrounded; its
    `section()` is what `--plan` prints, plan.json carries and results.json keeps."""

    workload: str
    scale: float
    speed: float
    real_seconds: float
    simulated_hours: float
    agencies: int
    officers: int
    arrivals_per_s: dict[str, float]
    requests_per_s: dict[str, float]
    pools: dict[str, int]
    ceiling_rps: float
    shape: dict[str, Any]
    national_peak_rps: float
    demand_rps: float  # the dossier-driven part of requests_per_s: what a step level scales

    @property
    def total_rps(self) -> float:
        return sum(self.requests_per_s.values())

    def section(self) -> PlanSection:
        return PlanSection(
            workload=self.workload,
            scale=self.scale,
            speed=self.speed,
            real_seconds=self.real_seconds,
            simulated_hours=round(self.simulated_hours, 3),
            agencies=self.agencies,
            officers=self.officers,
            arrivals_per_s={k: round(v, 4) for k, v in self.arrivals_per_s.items()},
            requests_per_s={k: round(v, 3) for k, v in self.requests_per_s.items()},
            total_rps=round(self.total_rps, 3),
            pools=self.pools,
            ceiling_rps=self.ceiling_rps,
            shape=self.shape,
            national_peak_rps=round(self.national_peak_rps, 3),
            demand_rps=round(self.demand_rps, 3),
        )


def check_ceiling(plan: PlanSection, *, force: bool) -> None:
    """Refuse a plan above its ceiling, naming the numbers. A step run is exempt: going past
    what the target takes is its purpose, and its lag check still says when the generator, not
    the target, was the limit."""
    total, ceiling = plan.total_rps, plan.ceiling_rps
    if plan.shape.get("name") == "step":
        return
    if total > ceiling and not force:
        name, rate = max(plan.requests_per_s.items(), key=lambda item: item[1])
        raise WorkloadError(
            f"the plan offers {total:,.0f} requests/s at the busiest hour (scale "
            f"{plan.scale:g} x speed {plan.speed:g}; busiest: {name} {rate:,.0f}/s), above "
            f"the ceiling of {ceiling:,.0f}/s: lower --scale or --speed, raise "
            "run.ceiling_rps, or pass --force"
        )


def pool_size(arrivals_per_s: float, seconds_each: float, *, minimum: int = 2) -> int:
    """Users an actor needs so that arrivals rarely wait for one: Little's law (L = λW) with a
    fourfold margin for bursts of a Poisson stream."""
    return max(minimum, math.ceil(arrivals_per_s * seconds_each * 4) + 1)


# Requests a journey makes, for the plan's estimate of each route group's load.
BROWSE_REQUESTS = 3  # search, one procedure, its agencies
SUBMIT_REQUESTS = 3  # log-in (once per identity), submit, upload
BACKOFFICE_REQUESTS = 5  # ack, accept, process, resolve, return
PAYMENT_REQUESTS = 5  # create, pay page, pay, two status checks
SYNC_SERVICES = 2  # a push sends a batch of records and a batch of steps
# A reviewer's read: sync stats, metrics, clock, the national indicators and the ranking.
REVIEWER_REQUESTS = 5
COUNTER_ITEMS = 3  # a counter dossier is pushed as a record, then two steps (9, 10)


def make_plan(workload: Workload, world: World, workload_name: str) -> Plan:
    """Each actor's arrivals per real second (a week's mean) and each route group's requests
    per real second at the busiest hour of the shape, which the ceiling is checked against.

    The national peak is the dossier-driven demand (catalogue, citizens, back-office work on
    dossiers, payments) at the profile's busiest hour at scale 1 and in real time: what the
    knee of a step run is stated against. Inbox polls and sync pushes come per agency, not per
    dossier, and are left out of it."""
    speed, timeline = world.timeline.speed, world.timeline
    shape = world.shape_model
    to_real = speed / 86400  # per simulated day -> per real second
    week_mean = sum(workload.profile.weekly) / 7
    diurnal_peak = max(workload.profile.weekly) * max(workload.profile.online_hourly) * 24
    peak_factor = (week_mean if shape.flat else diurnal_peak) * shape.peak_multiplier
    if workload.queueing is not None:  # flat over the working windows, 5 days of 7
        day = workload.queueing.day_hours
        week_mean, peak_factor = day / 24 * 5 / 7, 24 / day
        diurnal_peak = peak_factor
    mean_factor = week_mean * shape.mean_multiplier(timeline.real_seconds)
    online_per_day = sum(a.online_per_day for a in world.agencies)
    counter_per_day = sum(a.counter_per_day for a in world.agencies)
    citizen, backoffice = workload.citizen, workload.backoffice
    simple = workload.queueing is not None
    visits = 0.0 if simple else workload.volumes.visits_per_dossier
    follow_ups = (
        0.0
        if simple
        else (
            citizen.polls_per_dossier
            + citizen.rating_probability
            + citizen.complaint_probability
            + 2 * (backoffice.supplement_at_intake + backoffice.supplement_in_processing)
        )
    )
    pay_share = 0.0 if simple else _fee_share(world) * workload.volumes.online_payment_share
    working_share = 5 / 7 * WORKING_DAY_HOURS / 24  # inbox polls and pushes: working time only
    polls_per_day = len(world.agencies) * 24 * 60 / backoffice.inbox_poll_minutes
    pushes_per_day = (
        0.0
        if counter_per_day == 0
        else (len(world.agencies) * 24 * 60 / workload.sync.batch_minutes)
    )
    reviews_per_day = 0.0 if simple else workload.reviewer.reads_per_hour * 24
    counter_peak = shape.peak_multiplier * (
        counter_per_day * 24 / WORKING_DAY_HOURS
        if shape.flat
        else counter_per_day
        * max(workload.profile.weekly)
        * max(workload.profile.counter_hourly)
        * 24
    )
    mean = {
        "citizen": online_per_day * mean_factor,
        "browse": online_per_day * visits * mean_factor,
        "backoffice": polls_per_day * working_share,
        "sync": pushes_per_day * working_share,
        "payer": online_per_day * pay_share * mean_factor,
        "reviewer": reviews_per_day,
    }
    peak = {
        "citizen": online_per_day * peak_factor,
        "browse": online_per_day * visits * peak_factor,
        "backoffice": polls_per_day,
        "sync": pushes_per_day,
        "payer": online_per_day * pay_share * peak_factor,
        "reviewer": reviews_per_day,
    }
    requests = {
        "catalogue": peak["browse"] * BROWSE_REQUESTS,
        "citizen": peak["citizen"] * (SUBMIT_REQUESTS + follow_ups),
        "agency": peak["citizen"] * BACKOFFICE_REQUESTS + peak["backoffice"],
        # An empty outbox sends nothing: no more calls than there are items.
        "sync": SYNC_SERVICES * min(peak["sync"], counter_peak * COUNTER_ITEMS),
        "payments": peak["payer"] * PAYMENT_REQUESTS,
        "reviewer": peak["reviewer"] * REVIEWER_REQUESTS,
    }
    per_dossier = (
        visits * BROWSE_REQUESTS
        + SUBMIT_REQUESTS
        + follow_ups
        + BACKOFFICE_REQUESTS
        + pay_share * PAYMENT_REQUESTS
    )
    national_online = workload.volumes.dossiers_per_working_day * workload.volumes.online_share
    national_peak_rps = national_online * diurnal_peak * per_dossier / 86400
    # A healthy journey takes well under a second; a pool sized for 2 s each leaves room for a
    # slower target before arrivals wait for a user. The payer waits for the IPN. Back offices
    # and sync work on dossiers too, so a shape's peak needs more of them.
    seconds_each = {"payer": workload.payments.confirm_timeout_seconds / 4}
    pool_rates = {
        k: v * (shape.peak_multiplier if k in ("backoffice", "sync") else 1.0)
        for k, v in peak.items()
    }
    return Plan(
        workload=workload_name,
        scale=world.scale,
        speed=speed,
        real_seconds=timeline.real_seconds,
        simulated_hours=timeline.real_seconds * speed / 3600,
        agencies=len(world.agencies),
        officers=sum(a.officers for a in world.agencies),
        arrivals_per_s={k: v * to_real for k, v in mean.items()},
        requests_per_s={k: v * to_real for k, v in requests.items()},
        pools={
            k: pool_size(v * to_real, seconds_each.get(k, 2.0), minimum=1 if v == 0 else 4)
            for k, v in pool_rates.items()
        },
        ceiling_rps=workload.run.ceiling_rps,
        shape=world.shape,
        national_peak_rps=national_peak_rps,
        demand_rps=online_per_day * peak_factor * per_dossier * to_real,
    )


def _fee_share(world: World) -> float:
    total = 0.0
    fee_bearing = 0.0
    for agency in world.agencies:
        for code, weight in zip(agency.procedures, agency.weights, strict=True):
            total += weight * agency.online_per_day
            if world.procedures[code].fees_total > 0:
                fee_bearing += weight * agency.online_per_day
    return fee_bearing / total if total else 0.0


MAX_WAIT_FOR_START_SECONDS = 60.0


def timeline_from_clock(
    clock: dict[str, Any],
    *,
    measured_at: float,
    start_in: float,
    real_seconds: float,
    workload_start: datetime | None = None,
) -> Timeline:
    """The time line from a running target's `GET /api/v1/clock`, read at wall time
    `measured_at`. Arrivals start `start_in` seconds from now, or when the portal's clock
    reaches the workload's start if that comes within a minute: runs of one workload and seed
    then share their schedule. (The servers `portalsim run` starts hold their clocks at the
    workload's start until the harness names the instant: loadtest/drive/harness.py.)"""
    now_utc = datetime.fromisoformat(clock["now_utc"])
    if now_utc.tzinfo is None:
        now_utc = now_utc.replace(tzinfo=UTC)
    speed = float(clock["speed"])
    start_real = measured_at + start_in
    if workload_start is not None:
        local = (
            workload_start if workload_start.tzinfo else workload_start.replace(tzinfo=VIETNAM_TZ)
        )
        at_start = measured_at + (local.timestamp() - now_utc.timestamp()) / speed
        if start_real <= at_start <= measured_at + MAX_WAIT_FOR_START_SECONDS:
            start_real = at_start
    return Timeline(
        real_zero=measured_at,
        sim_at_zero=now_utc.timestamp(),
        speed=speed,
        start_real=start_real,
        real_seconds=real_seconds,
    )


PAGE_SIZE = 200


def fetch_catalogue(client: httpx.Client) -> Catalogue:
    """Every procedure and agency of a running portal, from its public API."""

    def every(path: str) -> Iterator[object]:
        page = 1
        while True:
            body = client.get(path, params={"page": page, "size": PAGE_SIZE}).raise_for_status()
            found = body.json()
            yield from found["items"]
            if page * PAGE_SIZE >= found["total"]:
                return
            page += 1

    return Catalogue(
        [ProcedureOut.model_validate(item) for item in every("/api/v1/procedures")],
        [AgencyOut.model_validate(item) for item in every("/api/v1/agencies")],
    )


def generated_catalogue(seed: int, communes_per_province: int) -> Catalogue:
    """The catalogue a portal started on an empty database would serve (its deterministic
    generator), in the API's schemas: a plan needs no running portal."""
    from app.catalogue.generator import FIELDS, generate_agencies, generate_procedures

    field_names = {field.code: field.name for field in FIELDS}
    procedures = [
        ProcedureOut(
            code=p.code,
            name=p.name,
            field=p.field_code,
            field_name=field_names[p.field_code],
            agency_level=p.agency_level,
            processing_time=p.processing_time,
            processing_unit=p.processing_unit,
            fees=[FeeOut(code=fee.code, name=fee.name, amount=fee.amount) for fee in p.fees],
            online_level=p.online_level,
        )
        for p in generate_procedures(seed)
    ]
    agencies = [
        AgencyOut(
            code=a.code,
            name=a.name,
            level=a.level,
            province_code=a.province_code,
            field_codes=list(a.field_codes),
        )
        for a in generate_agencies(seed, communes_per_province)
    ]
    return Catalogue(procedures, agencies)
