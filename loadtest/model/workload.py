"""The workload model: `workload.toml` read into typed sections, and turned (with a scale, a clock
speed and the agencies in scope) into the rates each actor offers in real time.

Pure: no I/O beyond reading the file, so that the arithmetic is property-tested."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from loadtest.model.durations import Duration

# Re-exported: callers import the workload's inputs from one place.
from loadtest.model.durations import WorkloadError as WorkloadError
from loadtest.model.durations import parse_duration as parse_duration
from loadtest.model.thresholds import ThresholdsSection, parse_rules

Level = Literal["central", "province", "commune"]
LEVELS: tuple[Level, ...] = ("central", "province", "commune")
DEFAULT_WORKLOAD = Path(__file__).parents[1] / "workload.toml"
Share = Annotated[float, Field(ge=0, le=1)]
Positive = Annotated[float, Field(gt=0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunSection(_Section):
    scale: Positive = 0.0024
    speed: Positive = 2400
    duration: Duration = "120s"
    seed: int = 1
    start: datetime = datetime(2026, 3, 2, 7, 0)
    lag_budget_ms: Positive = 1000
    lag_budget_share: Share = 0.01
    ceiling_rps: Positive = 250
    warmup_share: Annotated[float, Field(ge=0, lt=1)] = 0.1
    # The p99 of the simulated time the back office's chain adds to a dossier's processing
    # time, as a share of its deadline, past which the run is invalid
    # (loadtest/judge/distortion.py).
    chain_budget_share: Share = 0.1


class ScopeSection(_Section):
    agencies: Annotated[int, Field(ge=0)] = 12


class VolumesSection(_Section):
    dossiers_per_working_day: Positive = 124_000
    online_share: Share = 0.747
    visits_per_dossier: Annotated[float, Field(ge=0)] = 3.2
    online_payment_share: Share = 0.85
    average_payment_vnd: Annotated[int, Field(ge=0)] = 351_000


class LevelsSection(_Section):
    central: Share = 0.05
    province: Share = 0.35
    commune: Share = 0.60

    def share(self, level: Level) -> float:
        return float(getattr(self, level))


class CatalogueSection(_Section):
    zipf_exponent: Annotated[float, Field(ge=0)] = 1.1


def _normalised(weights: list[float], what: str) -> list[float]:
    if len(weights) != 24 or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"{what} needs 24 non-negative weights, not all zero")
    total = sum(weights)
    if math.isclose(total, 1.0, rel_tol=1e-12):
        # Already shares (a workload read back from JSON): dividing again would move their
        # last bits, and a worker's schedule would then differ from the master's.
        return weights
    return [w / total for w in weights]


class ProfileSection(_Section):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    online_hourly: list[float] = [1.0] * 24
    counter_hourly: list[float] = [0] * 7 + [1.0] * 4 + [0] * 2 + [1.0] * 4 + [0] * 7
    weekly: list[float] = [1.0] * 5 + [0.0] * 2

    @field_validator("online_hourly", "counter_hourly")
    @classmethod
    def _hourly(cls, value: list[float]) -> list[float]:
        return _normalised(value, "an hourly profile")

    @field_validator("weekly")
    @classmethod
    def _weekly(cls, value: list[float]) -> list[float]:
        if len(value) != 7 or any(w < 0 for w in value):
            raise ValueError("weekly needs 7 non-negative weights, Monday..Sunday")
        return value


class CitizenSection(_Section):
    browse_without_diacritics: Share = 0.6
    documents_min: Annotated[int, Field(ge=0, le=10)] = 1
    documents_max: Annotated[int, Field(ge=0, le=10)] = 3
    document_kb: Annotated[int, Field(ge=1, le=1024)] = 40
    polls_per_dossier: Annotated[float, Field(ge=0)] = 2.0
    poll_within_hours: Positive = 48
    withdraw_probability: Share = 0.01
    rating_probability: Share = 0.3
    complaint_probability: Share = 0.01
    supplement_reaction_hours: Positive = 6.0
    supplement_never: Share = 0.05
    accounts_pool: Annotated[int, Field(ge=1, le=10_000)] = 5000


class BackofficeSection(_Section):
    inbox_poll_minutes: Positive = 60
    refuse_at_intake: Share = 0.02
    supplement_at_intake: Share = 0.04
    supplement_in_processing: Share = 0.06
    stop_probability: Share = 0.01
    withdrawal_stop_hours: Annotated[float, Field(ge=0)] = 2.0
    return_delay_hours: Annotated[float, Field(ge=0)] = 1.0
    electronic_result_share: Share = 0.7
    service_median_share: Positive = 0.08
    service_sigma: Annotated[float, Field(ge=0)] = 0.8
    service_min_hours: Annotated[float, Field(ge=0)] = 0.25


class StaffingSection(_Section):
    target_utilisation: Annotated[float, Field(gt=0, lt=1)] = 0.7
    officers_central: Annotated[int, Field(ge=0)] = 0
    officers_province: Annotated[int, Field(ge=0)] = 0
    officers_commune: Annotated[int, Field(ge=0)] = 0

    def fixed(self, level: Level) -> int:
        return int(getattr(self, f"officers_{level}"))


class SyncSection(_Section):
    batch_minutes: Positive = 60
    batch_max: Annotated[int, Field(ge=1, le=500)] = 500
    resend_probability: Share = 0.05
    reorder_probability: Share = 0.05


class CardsSection(_Section):
    success: Share = 0.93
    decline: Share = 0.05
    cancel: Share = 0.02


class PaymentsSection(_Section):
    cards: CardsSection = CardsSection()
    retry_after_decline: Share = 0.8
    gateway_faults: str = ""
    poll_seconds: Positive = 0.5
    confirm_timeout_seconds: Positive = 20


class ReviewerSection(_Section):
    reads_per_hour: Annotated[float, Field(ge=0)] = 1


class QueueingSection(_Section):
    """harness.md's M/M/c case: N identical agencies, one procedure with a deadline of D working
    hours, Poisson arrivals of λ per working hour per agency (flat over working time), c
    officers, exponential service of mean m working hours; online only, no supplements, no
    fees, no refusals. The servers are started with the receipt cut-off at the end of the day."""

    agencies: Annotated[int, Field(ge=1)] = 4
    level: Level = "commune"
    # The servers' working windows for the check (CALENDAR_WINDOWS); the cut-off is the last
    # window's end. Longer windows waste less real time on nights: the formula holds in
    # working-time coordinates whatever their length.
    windows: list[tuple[time, time]] = [(time(7, 30), time(11, 30)), (time(13, 0), time(17, 0))]
    deadline_hours: Annotated[int, Field(ge=1)] = 8
    arrivals_per_hour: Positive = 1.2
    officers: Annotated[int, Field(ge=1)] = 4
    service_mean_hours: Positive = 2.0

    @property
    def day_hours(self) -> float:
        """Working hours in a day of the windows."""
        return sum(
            (end.hour - start.hour) + (end.minute - start.minute) / 60
            for start, end in self.windows
        )


class DiurnalShape(_Section):
    """The workload's own profiles: the intra-day, counter and weekly curves, as published."""

    name: Literal["diurnal"] = "diurnal"
    flat: ClassVar[bool] = False  # True: demand spread evenly instead of the profiles
    varies: ClassVar[bool] = False  # True: the multiplier changes during the run

    def multiplier(self, offset: float) -> float:  # noqa: ARG002 - every shape answers this
        return 1.0

    @property
    def peak_multiplier(self) -> float:
        return 1.0

    def mean_multiplier(self, seconds: float) -> float:  # noqa: ARG002
        return 1.0


class SurgeShape(DiurnalShape):
    """A deadline-day spike: the diurnal demand times `factor` for `lasting`, `at` into the run
    (real time)."""

    name: Literal["surge"] = "surge"  # type: ignore[assignment]
    varies: ClassVar[bool] = True
    factor: Annotated[float, Field(ge=1)] = 4.0
    at: Duration = "40s"
    lasting: Duration = "30s"

    def multiplier(self, offset: float) -> float:
        start = parse_duration(self.at)
        return self.factor if start <= offset < start + parse_duration(self.lasting) else 1.0

    @property
    def peak_multiplier(self) -> float:
        return self.factor

    def mean_multiplier(self, seconds: float) -> float:
        surge = min(parse_duration(self.lasting), seconds)
        return 1 + (self.factor - 1) * surge / seconds


class SoakShape(DiurnalShape):
    """Flat and long: every demand stream at its week's mean rate x `level`, round the clock
    (counters in their working hours), so that memory and latency drift show and are not
    mistaken for the profile."""

    name: Literal["soak"] = "soak"  # type: ignore[assignment]
    flat: ClassVar[bool] = True
    duration: Duration = "20m"
    level: Positive = 1.0

    def multiplier(self, offset: float) -> float:  # noqa: ARG002
        return self.level

    @property
    def peak_multiplier(self) -> float:
        return self.level

    def mean_multiplier(self, seconds: float) -> float:  # noqa: ARG002
        return self.level


class StepShape(DiurnalShape):
    """Step-to-saturation: flat demand of `start` x the national peak (the workload's
    dossier-driven requests per second at its busiest hour, at scale 1 in real time), raised by
    `increment` every `step_duration`, for `steps` steps or until `stop_after_broken` steps in a
    row break the `slo`. The report names the knee. A level is a multiple of the national peak
    whatever the run's scale and speed: the world sets `unit`, the multiplier of the run's own
    flat rate that makes one national peak."""

    name: Literal["step"] = "step"  # type: ignore[assignment]
    varies: ClassVar[bool] = True
    flat: ClassVar[bool] = True
    start: Positive = 0.25
    increment: Positive = 0.25
    steps: Annotated[int, Field(ge=2, le=50)] = 10
    step_duration: Duration = "20s"
    slo: list[str] = ["all.p99_ms < 1000", "errors.rate < 0.01"]
    stop_after_broken: Annotated[int, Field(ge=1)] = 2
    # A step run measures the HTTP knee: a slow clock keeps it within one morning's working
    # hours, so back offices and counters work through every step alike. --speed overrides.
    speed: Positive = 60
    unit: Positive = 1.0

    @field_validator("slo")
    @classmethod
    def _slo(cls, value: list[str]) -> list[str]:
        for rule in parse_rules(value):
            if not rule.live:  # a step is judged on its HTTP figures alone
                raise ValueError(f'"{rule}": a step is judged on groups, all, requests, errors')
        return value

    @property
    def step_seconds(self) -> float:
        return parse_duration(self.step_duration)

    def step_of(self, offset: float) -> int:
        return min(self.steps - 1, max(0, int(offset // self.step_seconds)))

    def level_of(self, step: int) -> float:
        return self.start + step * self.increment

    def multiplier(self, offset: float) -> float:
        return self.level_of(self.step_of(offset)) * self.unit

    @property
    def peak_multiplier(self) -> float:
        return self.level_of(self.steps - 1) * self.unit

    def mean_multiplier(self, seconds: float) -> float:  # noqa: ARG002 - steps fill the run
        return (self.level_of(0) * self.unit + self.peak_multiplier) / 2


Shape = DiurnalShape | SurgeShape | SoakShape | StepShape
SHAPES: dict[str, type[DiurnalShape]] = {
    "diurnal": DiurnalShape,
    "surge": SurgeShape,
    "soak": SoakShape,
    "step": StepShape,
}


class ShapesSection(_Section):
    """Each shape's settings; `--shape NAME` picks one, `--shape NAME:key=value,...` overrides."""

    surge: SurgeShape = SurgeShape()
    soak: SoakShape = SoakShape()
    step: StepShape = StepShape()


class Workload(_Section):
    run: RunSection = RunSection()
    scope: ScopeSection = ScopeSection()
    volumes: VolumesSection = VolumesSection()
    levels: LevelsSection = LevelsSection()
    catalogue: CatalogueSection = CatalogueSection()
    profile: ProfileSection = ProfileSection()
    citizen: CitizenSection = CitizenSection()
    backoffice: BackofficeSection = BackofficeSection()
    staffing: StaffingSection = StaffingSection()
    sync: SyncSection = SyncSection()
    payments: PaymentsSection = PaymentsSection()
    reviewer: ReviewerSection = ReviewerSection()
    queueing: QueueingSection | None = None
    shapes: ShapesSection = ShapesSection()
    thresholds: ThresholdsSection = ThresholdsSection()

    @property
    def is_queueing(self) -> bool:
        return self.queueing is not None

    def choose_run(
        self, *, shape: str | None, speed: float | None, duration: str | None
    ) -> RunChoice:
        """The shape, clock speed and real length a run's options choose, the workload's own
        where an option is None: `--shape`, `--speed` and `--duration` resolved together,
        because a shape brings its own speed and length."""
        chosen = self.shape(shape)
        return RunChoice(
            shape=chosen,
            speed=self.run_speed(chosen, speed),
            real_seconds=self.run_seconds(chosen, duration),
        )

    def run_speed(self, shape: DiurnalShape, speed: float | None) -> float:
        """The servers' clock speed: --speed, else a step shape's own, else [run] speed."""
        if speed is not None:
            return speed
        return shape.speed if isinstance(shape, StepShape) else self.run.speed

    def run_seconds(self, shape: DiurnalShape, duration: str | None) -> float:
        """The run's real length: --duration, else the shape's own, else [run] duration."""
        if isinstance(shape, StepShape):
            if duration:
                raise WorkloadError(
                    "a step run lasts steps x step_duration: drop --duration, or set "
                    "--shape step:steps=N,step_duration=D"
                )
            return shape.steps * shape.step_seconds
        if isinstance(shape, SoakShape) and not duration:
            return parse_duration(shape.duration)
        seconds = parse_duration(duration or self.run.duration)
        if isinstance(shape, SurgeShape):
            end = parse_duration(shape.at) + parse_duration(shape.lasting)
            if end > seconds:
                raise WorkloadError(
                    f"the surge ends {end:g} s into a run of {seconds:g} s: lengthen --duration "
                    "or move shapes.surge.at / lasting"
                )
        return seconds

    def shape(self, spec: str | None) -> DiurnalShape:
        """The shape `--shape` names (`step`, or `step:start=2,increment=2`), from [shapes]."""
        if not spec:
            return DiurnalShape()
        name, _, overrides = spec.partition(":")
        name = name.strip()
        if name not in SHAPES:
            raise WorkloadError(f"--shape {name!r}: one of {', '.join(SHAPES)}")
        base = getattr(self.shapes, name).model_dump() if name != "diurnal" else {}
        for item in filter(None, (part.strip() for part in overrides.split(","))):
            key, equals, value = item.partition("=")
            if not equals or not key.strip():
                raise WorkloadError(f"--shape {spec!r}: {item!r} is not key=value")
            base[key.strip()] = _scalar(value.strip())
        try:
            return SHAPES[name].model_validate(base)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise WorkloadError(f"--shape {name}: {where}: {first['msg']}") from None


@dataclass(frozen=True, slots=True)
class RunChoice:
    """What a run's options chose from the workload: its shape, clock speed and real length."""

    shape: DiurnalShape
    speed: float
    real_seconds: float


def _scalar(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def load_workload(path: Path | str = DEFAULT_WORKLOAD) -> Workload:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkloadError(f"no workload file at {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise WorkloadError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Workload.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise WorkloadError(f"{path}: {where}: {first['msg']}") from None


# ---------------------------------------------------------------------------------------------
# Rates


@dataclass(frozen=True, slots=True)
class AgencyDemand:
    """What one agency in scope receives, per average working day, at the run's scale."""

    online_per_day: float
    counter_per_day: float

    @property
    def per_day(self) -> float:
        return self.online_per_day + self.counter_per_day


def agency_demand(
    workload: Workload, level: Level, agencies_of_level: int, scale: float
) -> AgencyDemand:
    """The national volume of a level shared evenly by the catalogue's agencies of that level
    (each mock agency stands for its share of the country), times the scale."""
    if agencies_of_level <= 0:
        return AgencyDemand(0.0, 0.0)
    volumes = workload.volumes
    per_day = volumes.dossiers_per_working_day * workload.levels.share(level) * scale
    per_day /= agencies_of_level
    return AgencyDemand(per_day * volumes.online_share, per_day * (1 - volumes.online_share))


def weekly_weight(profile: ProfileSection, weekday: int, working: bool, *, counter: bool) -> float:
    """How many average working days of demand a day of this weekday (0 = Monday) carries: the
    weekly profile's weight on a working day (a compensatory working Saturday is an ordinary
    one); otherwise 0 at the counter, closed, and online the weekend's own weight, or Sunday's
    on a holiday."""
    if working:
        return profile.weekly[weekday] if weekday < 5 else 1.0
    if counter:
        return 0.0
    return profile.weekly[weekday] if weekday >= 5 else profile.weekly[6]


def period_dossiers(workload: Workload, days: list[tuple[int, bool]]) -> float:
    """The dossiers the workload puts on the whole country at scale 1 over these days, each given
    as (weekday, is a working day): how a published period total is turned into the file's
    dossiers per working day, and checked against it."""
    volumes, profile = workload.volumes, workload.profile
    return volumes.dossiers_per_working_day * math.fsum(
        volumes.online_share * weekly_weight(profile, weekday, working, counter=False)
        + (1 - volumes.online_share) * weekly_weight(profile, weekday, working, counter=True)
        for weekday, working in days
    )


def hourly_rate(per_working_day: float, day_weight: float, hourly: list[float], hour: int) -> float:
    """Arrivals per simulated hour in local `hour` of a day weighing `day_weight` working days
    (the weekly profile's, 0 for a closed counter): the day's total is per_working_day x
    day_weight, spread by the hourly profile (shares summing to 1)."""
    return per_working_day * day_weight * hourly[hour]


def service_mean_share(backoffice: BackofficeSection) -> float:
    """The mean of the log-normal service share: median x e^(sigma^2 / 2)."""
    return backoffice.service_median_share * math.exp(backoffice.service_sigma**2 / 2)


def officers_for(
    workload: Workload, level: Level, work_hours_per_day: float, day_hours: float
) -> int:
    """Officers for an agency whose expected service work is `work_hours_per_day` working
    hours per working day of `day_hours` hours."""
    fixed = workload.staffing.fixed(level)
    if fixed:
        return fixed
    offered = work_hours_per_day / day_hours
    return max(1, math.ceil(offered / workload.staffing.target_utilisation))
