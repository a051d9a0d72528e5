"""The workload model: `workload.toml` read into typed sections, and turned (with a scale, a clock
speed and the agencies in scope) into the rates each actor offers in real time.

Pure: no I/O beyond reading the file, so that the arithmetic is property-tested."""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Level = Literal["central", "province", "commune"]
LEVELS: tuple[Level, ...] = ("central", "province", "commune")
DEFAULT_WORKLOAD = Path(__file__).with_name("workload.toml")
Share = Annotated[float, Field(ge=0, le=1)]
Positive = Annotated[float, Field(gt=0)]


class WorkloadError(ValueError):
    """A workload file, a flag or a plan that cannot be run; the message says which number."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_duration(text: str) -> float:
    """'90s', '10m', '1h30m', '45' (seconds) -> seconds."""
    match = re.fullmatch(
        r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text
    )
    if not text.strip() or match is None or not any(match.groups()):
        raise WorkloadError(f"duration {text!r}: use e.g. 90s, 10m or 1h30m")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise WorkloadError(f"duration {text!r} must be positive")
    return total


class RunSection(_Section):
    scale: Positive = 0.05
    speed: Positive = 2400
    duration: str = "120s"
    seed: int = 1
    start: datetime = datetime(2026, 3, 2, 7, 0)
    lag_budget_ms: Positive = 1000
    lag_budget_share: Share = 0.01
    ceiling_rps: Positive = 250
    warmup_share: Annotated[float, Field(ge=0, lt=1)] = 0.1

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


class ScopeSection(_Section):
    agencies: Annotated[int, Field(ge=0)] = 12


class VolumesSection(_Section):
    dossiers_per_working_day: Positive = 39_000
    online_share: Share = 0.58
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


def window_hours(windows: list[tuple[time, time]]) -> float:
    """Working hours in a day of these windows."""
    return sum((end.hour - start.hour) + (end.minute - start.minute) / 60 for start, end in windows)


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

    @property
    def is_queueing(self) -> bool:
        return self.queueing is not None


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


@dataclass(frozen=True, slots=True)
class Plan:
    """The resolved plan of a run: what each actor offers in real time, printed before a run
    starts (`--plan`) and kept in results.json."""

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

    @property
    def total_rps(self) -> float:
        return sum(self.requests_per_s.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "workload": self.workload,
            "scale": self.scale,
            "speed": self.speed,
            "real_seconds": self.real_seconds,
            "simulated_hours": round(self.simulated_hours, 3),
            "agencies": self.agencies,
            "officers": self.officers,
            "arrivals_per_s": {k: round(v, 4) for k, v in self.arrivals_per_s.items()},
            "requests_per_s": {k: round(v, 3) for k, v in self.requests_per_s.items()},
            "total_rps": round(self.total_rps, 3),
            "pools": self.pools,
            "ceiling_rps": self.ceiling_rps,
        }

    def check_ceiling(self, *, force: bool) -> None:
        check_ceiling(self.as_dict(), force=force)


def check_ceiling(plan: dict[str, Any], *, force: bool) -> None:
    """Refuse a plan (as `Plan.as_dict()` gives it) above its ceiling, naming the numbers."""
    total, ceiling = float(plan["total_rps"]), float(plan["ceiling_rps"])
    if total > ceiling and not force:
        name, rate = max(plan["requests_per_s"].items(), key=lambda item: item[1])
        raise WorkloadError(
            f"the plan offers {total:,.0f} requests/s at the busiest hour (scale "
            f"{plan['scale']:g} x speed {plan['speed']:g}; busiest: {name} {rate:,.0f}/s), above "
            f"the ceiling of {ceiling:,.0f}/s: lower --scale or --speed, raise "
            "run.ceiling_rps, or pass --force"
        )


def pool_size(arrivals_per_s: float, seconds_each: float, *, minimum: int = 2) -> int:
    """Users an actor needs so that arrivals rarely wait for one: Little's law (L = λW) with a
    fourfold margin for bursts of a Poisson stream."""
    return max(minimum, math.ceil(arrivals_per_s * seconds_each * 4) + 1)
