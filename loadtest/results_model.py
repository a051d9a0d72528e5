"""The type of results.json (`portalsim.results/1`): one frozen Pydantic model per section.

The harness builds a `Results` at the end of a run and writes it (`to_json`); `portalsim report`,
`portalsim compare` and the thresholds read a file back through `load_results`. The bytes on
disk are those the harness wrote before the format had a type: the same keys in the same order,
optional sections absent (not null) when a run has none.

Older files load through the same model: a key added since `portalsim report` first read
results.json (commit 384d756: the run's `database`, `target`, `headroom`, `chain`, the audit's
`performed`, the business figures `as_recorded`...) has a default meaning "not measured then".

`python -m loadtest.results_model` prints the JSON Schema (docs/results.schema.json holds it);
with file paths, it checks each file against the model instead."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)

FORMAT = "portalsim.results/1"
SCHEMA_FILE = Path(__file__).parents[1] / "docs" / "results.schema.json"
UNKNOWN_DATABASE = "unknown"


class Section(BaseModel):
    """A part of results.json: immutable, and holding no key the format does not name."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    # Keys written only when they hold a value: absent, not null, in the files so far.
    omitted_when_none: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        data: dict[str, object] = handler(self)
        for name in self.omitted_when_none:
            field = type(self).model_fields[name]
            key = field.alias or name
            if getattr(self, name) is None:
                data.pop(key, None)
        return data


# -- figures shared by several sections --------------------------------------------------------


class Percentiles(Section):
    """Milliseconds (or percent of a core), from an HdrHistogram; all zero when nothing came."""

    p50: float
    p90: float
    p95: float
    p99: float
    p999: float
    max: float


class Spread(Section):
    """p50, p99 and max of plain values (working minutes)."""

    p50: float
    p99: float
    max: float


class HoursPercentiles(Section):
    p50: float
    p95: float
    p99: float


class Stop(Section):
    """Why a run ended before its time."""

    omitted_when_none = frozenset({"broken"})

    why: str
    kind: Literal["aborted", "saturated", "target_down"]
    broken: list[str] | None = None  # the rules (as outcome lines) that stopped it


# -- the run and its plan ----------------------------------------------------------------------


class RunSection(Section):
    id: str
    started_at: str  # ISO 8601 with its offset, as written
    finished_at: str
    real_seconds: float  # the time it ran (less than planned when stopped early)
    target: str | None
    gateway: str
    seed: int
    scale: float
    speed: float
    simulated_from: str
    simulated_to: str
    valid: bool | None  # None only while the harness is still judging the run
    workers: int
    shape: str = "diurnal"
    stopped: Stop | None = None
    database: str = UNKNOWN_DATABASE  # the target's, from its /readyz


class PlanSection(Section):
    """The resolved plan, as `portalsim run --plan` prints it."""

    omitted_when_none = frozenset({"demand_rps"})

    workload: str
    scale: float
    speed: float
    real_seconds: float
    simulated_hours: float
    agencies: int
    officers: int
    arrivals_per_s: dict[str, float]  # per actor
    requests_per_s: dict[str, float]  # per route group, at the shape's busiest hour
    total_rps: float
    pools: dict[str, int]  # Locust users per actor
    ceiling_rps: float
    shape: dict[str, JsonValue]  # {"name": ..., and the shape's own settings}
    national_peak_rps: float
    demand_rps: float | None = None  # the dossier-driven part of requests_per_s


# -- HTTP figures ------------------------------------------------------------------------------


class RequestFigures(Section):
    """One request name (a route template): latency from the intended start."""

    group: str
    count: int
    failures: int
    rps: float
    latency_ms: Percentiles


class GroupFigures(Section):
    """A route group, or every request (`all`), merged exactly."""

    count: int
    latency_ms: Percentiles
    distribution: list[tuple[float, float]] = []  # [percentile, ms]


class Arrivals(Section):
    intended: int
    started: int
    late: int
    unstarted: int
    max_lag_ms: float
    lag_ms: Percentiles | None
    budget_ms: float
    budget_share: float
    pools_exhausted: dict[str, int] = {}  # actor -> times every user of it was busy


class IntervalGroup(Section):
    count: int
    p50: float
    p90: float
    p95: float
    p99: float
    p999: float
    max: float


class Interval(Section):
    """One interval of the time series (5 s; longer for long runs)."""

    omitted_when_none = frozenset({"failures"})

    t: float
    seconds: float
    offered_rps: float
    started_rps: float
    achieved_rps: float
    latency_ms: Percentiles
    lag_ms: Percentiles | None
    errors: dict[str, int]  # failed requests by kind
    failures: dict[str, int] | None = None  # by route group; absent from the oldest files
    groups: dict[str, IntervalGroup]


# -- business figures --------------------------------------------------------------------------


class OnTime(Section):
    finished: int
    on_time_share: float | None


class OnTimeBucket(Section):
    """The dossiers finished in one twelfth of the simulated span."""

    start: str = Field(alias="from")
    end: str = Field(alias="to")
    finished: int
    on_time_share: float | None


class BusinessSamples(Section):
    """Per-dossier values, for a comparison that tests the whole distribution."""

    latency_working_hours: list[float] = []


class Business(Section):
    omitted_when_none = frozenset({"samples"})

    submitted: int
    accepted: int
    finished: int
    returned: int
    on_time_share: float | None  # by the instants the workload intended
    on_time_share_as_recorded: float | None = None  # by the portal's recorded instants
    measured: int
    decided: int
    overdue: int
    latency_working_hours: HoursPercentiles
    latency_real_s: HoursPercentiles
    by: dict[str, dict[str, OnTime]]  # level, channel, field -> value -> share
    over_time: list[OnTimeBucket]
    samples: BusinessSamples | None = None


class Chain(Section):
    """What the back office's chain added, in working minutes of simulated time."""

    dossiers: int
    added_working_minutes: Spread | None
    acceptance_working_minutes: Spread | None
    end_working_minutes: Spread | None
    deadline_hours: float | None
    p99_share_of_deadline: float | None
    budget_share: float
    within_budget: bool | None  # None when no dossier was decided
    reclassified: int
    # Dossiers that joined the officers' queue after a later place (the intake line stopped
    # waiting for them): the one way the chain can still reach the intended figures.
    out_of_order: int = 0


class Payments(Section):
    created: int
    confirmed: int
    failed: int
    unconfirmed: int
    confirmation_ms: Percentiles


class Sync(Section):
    items: int
    resent: int
    accepted: int
    kept_out_of_order: int
    refused: int
    lag_ms: Percentiles


class QueueingModel(Section):
    arrivals_per_hour: float
    service_mean_hours: float
    officers: int
    deadline_hours: float
    agencies: int


class QueueFidelity(Section):
    """The run's officers' queue against the model's, dossier by dossier (issue 20)."""

    checked: int  # dossiers finished, in places with every earlier one finished
    elsewhere: int  # of them, finished elsewhere than FCFS over the intended instants does


class Queueing(Section):
    """Erlang C's prediction beside the measured on-time share (M/M/c workloads)."""

    omitted_when_none = frozenset({"queue"})

    predicted: float
    measured: float | None
    measured_as_recorded: float | None = None
    batch_error: float | None = None
    n: int
    utilisation: float
    wait_probability: float
    model: QueueingModel
    queue: QueueFidelity | None = None  # absent before the per-dossier check


class StaffingShare(Section):
    code: str
    predicted: float | None
    tolerance: float
    measured: float | None
    n: int
    within: bool | None


class StaffingAgency(StaffingShare):
    officers: int


class Staffing(Section):
    """With --staffing: the predicted share beside the measured one, per agency."""

    file: str
    replications: int
    agencies: list[StaffingAgency]
    overall: StaffingShare


# -- judgement ---------------------------------------------------------------------------------


class Audit(Section):
    ok: bool
    performed: bool = True
    not_performed: str | None = None  # why the audit could not be carried out
    checked: int
    lost: list[str]
    duplicated: list[str]
    mismatched: list[str]
    indicators_checked: int = 0


class Target(Section):
    """The target's health probes."""

    answering: bool
    stopped_answering_at_s: float | None
    why: str | None
    longest_silence_s: float
    stalls: list[tuple[float, float]]  # [from s, lasting s]
    probe: str


class Harness(Section):
    crashes: int
    generator_cpu_warnings: int
    generator_cpu_percent: Percentiles


class Memory(Section):
    sampled: bool
    pid: int | None
    series_mib: list[tuple[float, float]]  # [seconds into the run, MiB]


class RuleOutcome(Section):
    """A threshold rule's judgement."""

    rule: str
    status: Literal["met", "broken", "pending"]
    measured: bool | float | None
    reason: str | None
    line: str


class Thresholds(Section):
    ok: bool = True
    rules: list[RuleOutcome] = []
    aborted: Stop | None = None


class Step(Section):
    """One step of a step run, judged on the requests it completed."""

    step: int
    level: float
    from_s: float
    to_s: float
    offered_rps: float
    achieved_rps: float
    offered: int = 0  # arrivals due in the step; not counted before commit 05f2617
    late: int = 0
    count: int
    failures: int
    error_rate: float
    latency_ms: Percentiles
    met: bool
    broken: list[str]


class Knee(Section):
    rule: str
    rps: float | None
    offered_arrivals_rps: float | None
    step: int | None
    level: float | None
    national_peak_rps: float
    multiple_of_national_peak: float | None
    first_broken_step: int | None
    saturated: bool
    kneedle_level: float | None = None  # absent before commit 95c7a31
    kneedle_rps: float | None
    kneedle_multiple_of_national_peak: float | None


class Steps(Section):
    slo: list[str]
    levels: list[float]
    judged: list[Step]
    # Whether the generator kept to the schedule up to the knee; None in files from before
    # commit 05f2617, whose step runs are judged by the whole run's lag.
    kept_to_schedule: bool | None = None
    knee: Knee


class Drift(Section):
    unit: str
    slope_per_minute: float
    first_quarter: float
    last_quarter: float
    change: float | None
    r2: float


class Soak(Section):
    latency_p50: Drift | None
    latency_p99: Drift | None
    memory: Drift | None


class FiledKnee(Section):
    """A step run's knee as filed in knees.json for its database."""

    rps: float
    run: str
    measured_at: str
    workload: str | None
    national_peak_rps: float | None


class Headroom(Section):
    database: str
    offered_rps: float
    knee: FiledKnee | None
    share: float | None  # offered / knee


# -- the file ----------------------------------------------------------------------------------


class Results(Section):
    """results.json: a run's figures, its audit and its verdict."""

    omitted_when_none = frozenset(
        {"chain", "target", "queueing", "staffing", "steps", "soak", "headroom"}
    )

    format: Literal["portalsim.results/1"] = Field("portalsim.results/1", alias="schema")
    run: RunSection
    plan: PlanSection
    requests: dict[str, RequestFigures]
    groups: dict[str, GroupFigures]
    all: GroupFigures
    arrivals: Arrivals
    business: Business
    chain: Chain | None = None  # absent before issue 20
    payments: Payments
    sync: Sync
    audit: Audit
    target: Target | None = None  # absent before the health probes
    harness: Harness
    timeseries: list[Interval]
    memory: Memory
    queueing: Queueing | None = None
    staffing: Staffing | None = None
    steps: Steps | None = None
    soak: Soak | None = None
    thresholds: Thresholds = Thresholds()
    headroom: Headroom | None = None


def to_json(results: Results) -> str:
    """results.json's text, as the harness has always written it."""
    return json.dumps(results.model_dump(mode="json", by_alias=True), ensure_ascii=False, indent=2)


class ResultsError(ValueError):
    """Not a results.json this version can read: one line for the user."""


def load_results(path: Path) -> Results:
    """A results.json (a run's folder, or the file), of this version or an older one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: not found") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != FORMAT:
        raise ResultsError(f"{path} is not a portalsim results file (schema {FORMAT})")
    try:
        return Results.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ResultsError(
            f"{path} does not match {FORMAT} at {where}: {first['msg']} "
            f"({exc.error_count()} problem(s) in all)"
        ) from None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of results.json, generated from the model."""
    schema = Results.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_text() -> str:
    """docs/results.schema.json's text."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str]) -> int:
    """No argument: print the schema. Paths: check each results.json against the model."""
    if not argv:
        sys.stdout.write(schema_text())
        return 0
    failed = 0
    for name in argv:
        try:
            load_results(Path(name))
        except ResultsError as error:
            print(f"invalid: {error}")
            failed += 1
        else:
            print(f"valid: {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
