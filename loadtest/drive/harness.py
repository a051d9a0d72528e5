"""The harness's Locust hooks: its command-line options, the run described and planned once (by
`portalsim run`, whose plan.json arrives as --run-plan, or here on the master from Locust's
arguments), the world sent to every worker, measurements merged from the workers, and at the end
the audit, results.json, the summary and the exit code. Importing this module registers them.

Message flow in distributed mode: master --portalsim_world--> workers (at test start: the world
and the run's description); workers --report_to_master--> master (every few seconds, deltas);
workers --portalsim_final--> master (when they stop, before they report stopped)."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

import gevent
import httpx
from locust import events
from locust.env import Environment
from locust.runners import CPU_WARNING_THRESHOLD, MasterRunner, WorkerRunner

from app.core.calendar import VIETNAM_TZ, calendar_from_settings
from app.core.config import Settings
from loadtest.drive.description import (
    PlannedRun,
    RunDescription,
    clock_speed_of,
    describe_run,
    plan_run,
)
from loadtest.drive.engine import Simulation
from loadtest.drive.memory import MemorySampler
from loadtest.drive.runtime import current_run, this_process
from loadtest.drive.target import DOWN_AFTER_SECONDS, http_failure, probe
from loadtest.drive.users import USER_CLASSES
from loadtest.judge.audit import AuditReport, Procedure, audit_portal
from loadtest.judge.business import (
    business_section,
    payments_section,
    queueing_section,
    sync_section,
    warm_up_instant,
)
from loadtest.judge.distortion import chain_section
from loadtest.judge.drift import drift_section
from loadtest.judge.headroom import database_of, headroom, record_knee
from loadtest.judge.knee import judge_step, kept_to_schedule, knee
from loadtest.judge.report import write_reports
from loadtest.judge.results import EXIT_CRASH, summary_lines, verdict_of_results, write_results
from loadtest.judge.staffing import staffing_section
from loadtest.metrics import Book, figures_of, interval_for, latency_of, new_histogram
from loadtest.model.thresholds import (
    Rule,
    Snapshot,
    ThresholdError,
    evaluate,
    evaluate_live,
    parse_rules,
)
from loadtest.model.workload import (
    DEFAULT_WORKLOAD,
    SoakShape,
    StepShape,
    Workload,
    WorkloadError,
)
from loadtest.model.world import Timeline, World, fetch_catalogue, timeline_from_clock
from loadtest.results_model import (
    Arrivals,
    Audit,
    Business,
    Chain,
    Harness,
    Interval,
    Memory,
    Payments,
    Queueing,
    Results,
    RunSection,
    Soak,
    Staffing,
    Steps,
    Stop,
    Sync,
    Target,
    Thresholds,
)

logger = logging.getLogger("portalsim.loadtest")
logging.getLogger("httpx").setLevel(logging.WARNING)
START_LEAD_SECONDS = 3.0  # between the world's dispatch and the first arrival


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    """The harness's arguments for plain `locust -f loadtest/locustfile.py`; `describe_run`
    applies the workload's defaults to those left out. `portalsim run` passes --run-plan."""
    group = parser.add_argument_group("portalsim")
    group.add_argument("--workload", default=str(DEFAULT_WORKLOAD), help="the workload file")
    group.add_argument("--scale", type=float, default=None, help="x the national volumes")
    group.add_argument(
        "--speed",
        type=float,
        default=None,
        help="the portal's clock speed (read from the portal; checked)",
    )
    group.add_argument("--duration", default=None, help="real run time, e.g. 90s or 10m")
    group.add_argument("--seed", type=int, default=None)
    group.add_argument("--out", default="reports", help="results go to OUT/RUN_ID/")
    group.add_argument("--run-id", default="", help="default: the start time")
    group.add_argument(
        "--gateway", default=os.environ.get("VNPAY_GATEWAY_URL", "http://127.0.0.1:8001")
    )
    group.add_argument("--force", action="store_true", help="run a plan above the ceiling")
    group.add_argument("--plan-only", action="store_true", help="print the plan and exit")
    group.add_argument(
        "--shape", default=None, help="diurnal (default), surge, soak or step[:key=value,...]"
    )
    group.add_argument(
        "--thresholds", default=None, help="a TOML file with a [thresholds] table (SLO rules)"
    )
    group.add_argument(
        "--portal-pid", type=int, default=None, help="sample this local process's memory"
    )
    group.add_argument(
        "--fresh-portal",
        action="store_true",
        help="the portal holds this run's dossiers alone: the audit cross-checks its indicators",
    )
    group.add_argument(
        "--staffing",
        default=None,
        help="officers per agency: the JSON `portalsim staffing` wrote, or a TOML [officers] table",
    )
    group.add_argument(
        "--run-plan",
        default=None,
        help="the plan.json of a run `portalsim run` described and planned: replaces the "
        "options above",
    )


def _planned_run(environment: Environment) -> PlannedRun:
    """The run as `portalsim run` planned it, or described from Locust's arguments and planned
    here, on the target's catalogue and clock."""
    options = environment.parsed_options
    assert options is not None
    if options.run_plan:
        return PlannedRun.read(Path(options.run_plan))
    with httpx.Client(base_url=environment.host or "", timeout=30) as client:
        description = describe_run(
            workload=options.workload,
            scale=options.scale,
            speed=options.speed,
            duration=options.duration,
            seed=options.seed,
            shape=options.shape,
            thresholds=options.thresholds,
            staffing=options.staffing,
            out=options.out,
            run_id=options.run_id,
            force=options.force,
            gateway=options.gateway,
            portal_pid=options.portal_pid,
            fresh_portal=options.fresh_portal,
            read_clock_speed=lambda: clock_speed_of(client),
        )
        catalogue = fetch_catalogue(client)
    return plan_run(description, catalogue)


@events.init.add_listener
def _init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    this_process.reset(Settings())
    options = environment.parsed_options
    if options is None:
        return
    if isinstance(runner, WorkerRunner):
        runner.register_message("portalsim_world", _on_world)
        runner.register_message("portalsim_stop", _on_stop)
        return
    if isinstance(runner, MasterRunner):
        runner.register_message("portalsim_final", _on_final)
    try:
        planned = _planned_run(environment)
        current_run.database = database_of(environment.host or "")
    except (WorkloadError, ThresholdError, httpx.HTTPError, OSError) as exc:
        # One clear line, before any user starts; Locust's own exit would bury it.
        print(f"cannot start the run: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    current_run.description, current_run.world = planned.description, planned.world
    for user_class in USER_CLASSES:
        user_class.fixed_count = planned.world.pools[user_class.actor]
    if options.plan_only:
        print(json.dumps(planned.world.require_plan().model_dump(mode="json"), indent=2))
        raise SystemExit(0)


@events.test_start.add_listener
def _test_start(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    world, description = current_run.world, current_run.description
    if isinstance(runner, WorkerRunner) or world is None or description is None:
        return
    world.timeline = _start_timeline(environment, description)
    current_run.started_at = datetime.now(UTC)
    current_run.book = Book(
        started_at=world.timeline.start_real,
        interval_seconds=interval_for(world.timeline.real_seconds),
    )
    if isinstance(runner, MasterRunner):
        world.partition(max(1, runner.worker_count))
        runner.send_message(
            "portalsim_world",
            {"world": world.as_message(), "description": description.model_dump(mode="json")},
        )
    else:
        world.partition(1)
        _start_simulation(world, description, 0)
    gevent.spawn(_watch, environment, world, description)
    gevent.spawn(_probe_target, environment, world)


def _start_timeline(environment: Environment, description: RunDescription) -> Timeline:
    """The run's time line, from now. Servers this run started hold their clocks at the
    workload's start: name the instant they start at, so that the run begins exactly at the
    workload's start however long the start-up took. Another target's clock runs already: read
    it, so that every process agrees on it."""
    if description.clock_anchor_file is not None:
        anchor = time.time() + START_LEAD_SECONDS
        written = description.clock_anchor_file.with_suffix(".writing")
        written.write_text(datetime.fromtimestamp(anchor, UTC).isoformat(), encoding="utf-8")
        written.replace(description.clock_anchor_file)  # whole, for a clock that reads it
        start = description.workload.run.start
        return Timeline(
            real_zero=anchor,
            sim_at_zero=(start if start.tzinfo else start.replace(tzinfo=VIETNAM_TZ)).timestamp(),
            speed=description.speed,
            start_real=anchor,
            real_seconds=description.real_seconds,
        )
    with httpx.Client(base_url=environment.host or "", timeout=30) as client:
        measured_at = time.time()
        clock = client.get("/api/v1/clock").raise_for_status().json()
    return timeline_from_clock(
        clock,
        measured_at=measured_at,
        start_in=START_LEAD_SECONDS,
        real_seconds=description.real_seconds,
        workload_start=description.workload.run.start,
    )


WATCH_SECONDS = 1.0


def _watch(environment: Environment, world: World, description: RunDescription) -> None:
    """The master's eye on the run: the portal's memory, each finished step of a step run, and
    the abort_on_fail thresholds. Stops the run when a step run has saturated or an abort rule
    broke (the figures so far are still written)."""
    timeline = world.timeline
    ends_at = timeline.start_real + timeline.real_seconds
    memory = MemorySampler(description.portal_pid)
    shape = world.shape_model
    step_rules = parse_rules(shape.slo) if isinstance(shape, StepShape) else []
    abort_rules = description.thresholds.abort_rules()
    # Worker reports arrive every few seconds: judge a step once its last interval is in.
    settle = current_run.book.interval_seconds + 4.0
    next_sample = timeline.start_real
    local = not isinstance(environment.runner, MasterRunner)
    while (
        not current_run.finished and current_run.stopped is None and time.time() < ends_at + settle
    ):
        gevent.sleep(WATCH_SECONDS)
        now = time.time()
        if local and this_process.simulation is not None:  # no workers report: read our own book
            current_run.absorb(this_process.simulation.drain())
        if now >= next_sample and now >= timeline.start_real:
            sample = memory.sample()
            if sample is not None:
                current_run.memory.append((round(now - timeline.start_real, 1), sample))
            next_sample = now + current_run.book.interval_seconds
        reason = None
        if isinstance(shape, StepShape):
            reason = _judge_steps(shape, step_rules, timeline.start_real, now - settle)
        if (
            reason is None
            and abort_rules
            and now - timeline.start_real >= description.thresholds.abort_after_seconds
        ):
            reason = _check_abort(abort_rules, now - timeline.start_real)
        if reason is not None:
            _stop_run(environment, reason, now)
            return


def _probe_target(environment: Environment, world: World) -> None:
    """Probe the target every second until the run is over; a silence of DOWN_AFTER_SECONDS
    stops the run: the figures so far are written, and the verdict says when it fell silent."""
    start = world.timeline.start_real
    with httpx.Client(base_url=environment.host or "") as client:
        while not current_run.finished:
            asked = time.time()
            problem = probe(client)
            now = time.time()
            current_run.target.observe(asked - start, now - start, problem)
            if current_run.target.silent_for(now - start) >= DOWN_AFTER_SECONDS:
                _stop_run(environment, Stop(why=current_run.target.line(), kind="target_down"), now)
                return
            gevent.sleep(max(0.0, WATCH_SECONDS - (now - asked)))


def _stop_run(environment: Environment, reason: Stop, now: float) -> None:
    """Stop the run early, once, for the first reason that came."""
    if current_run.stopped is not None or current_run.finished:
        return
    current_run.stopped = reason
    current_run.ended_at = now
    logger.warning("stopping the run: %s", reason.why)
    _stop(environment, now)


STOP_GRACE_SECONDS = 10.0  # for the requests under way when a run is stopped early


def _stop(environment: Environment, at: float) -> None:
    """Stop taking tasks everywhere, let those under way finish (so that the ledger and the
    portal agree on what was done), then end Locust."""
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        runner.send_message("portalsim_stop", {"at": at})
        gevent.sleep(STOP_GRACE_SECONDS / 2)  # the workers' tasks under way finish meanwhile
    elif this_process.simulation is not None:
        simulation = this_process.simulation
        simulation.stop(at)
        deadline = time.time() + STOP_GRACE_SECONDS
        while simulation.in_flight and time.time() < deadline:
            gevent.sleep(0.1)
    if runner is not None:
        runner.quit()


def _on_stop(environment: Environment, msg: Any, **_: Any) -> None:  # noqa: ARG001
    if this_process.simulation is not None:
        this_process.simulation.stop(float(msg.data["at"]))


def _judge_steps(
    shape: StepShape, rules: list[Rule], start_real: float, settled_until: float
) -> Stop | None:
    while len(current_run.steps) < shape.steps:
        index = len(current_run.steps)
        begins = start_real + index * shape.step_seconds
        ends = begins + shape.step_seconds
        if ends > settled_until:
            return None
        window = current_run.book.window(begins, ends)
        current_run.steps.append(judge_step(index, shape.level_of(index), window, rules))
        tail = current_run.steps[-shape.stop_after_broken :]
        if len(tail) == shape.stop_after_broken and not any(s.met for s in tail):
            return Stop(
                why=f"saturated: {shape.stop_after_broken} step(s) in a row broke the SLO",
                kind="saturated",
                broken=tail[-1].broken,
            )
    return None


def _check_abort(rules: list[Rule], elapsed: float) -> Stop | None:
    book = current_run.book
    snapshot = Snapshot(
        real_seconds=elapsed,
        requests=book.requests_section(elapsed),
        groups=book.groups_section(),
        all=figures_of(book.all_requests()),
    )
    broken = [o for o in evaluate_live(rules, snapshot) if not o.ok]
    if not broken:
        return None
    return Stop(
        why="abort_on_fail: " + "; ".join(o.line() for o in broken),
        kind="aborted",
        broken=[o.line() for o in broken],
    )


def _on_world(environment: Environment, msg: Any, **_: Any) -> None:
    world = World.from_message(msg.data["world"])
    description = RunDescription.model_validate(msg.data["description"])
    index = int(getattr(environment.runner, "worker_index", 0))
    _start_simulation(world, description, index % world.partitions)


def _on_final(environment: Environment, msg: Any, **_: Any) -> None:  # noqa: ARG001
    current_run.absorb(msg.data)


def _start_simulation(world: World, description: RunDescription, partition: int) -> None:
    workload = description.workload
    simulation = Simulation(
        world,
        workload,
        partition,
        calendar_from_settings(this_process.settings),
        lag_budget_ms=workload.run.lag_budget_ms,
    )
    arrivals = simulation.seed_arrivals()
    logger.info("partition %s of %s: %s arrivals scheduled", partition, world.partitions, arrivals)
    this_process.description = description
    this_process.simulation = simulation
    this_process.ready.set()


@events.report_to_master.add_listener
def _report(data: dict[str, Any], **_: Any) -> None:
    if this_process.simulation is not None:
        data["portalsim"] = this_process.simulation.drain()


@events.usage_monitor.add_listener
def _usage(environment: Environment, cpu_usage: float, **_: Any) -> None:  # noqa: ARG001
    """The generator's CPU, sampled by Locust in each process that runs users."""
    simulation = this_process.simulation
    if simulation is not None:
        simulation.book.observe("generator.cpu_percent", cpu_usage)
        if cpu_usage > CPU_WARNING_THRESHOLD:
            simulation.book.count("cpu.high")


@events.worker_report.add_listener
def _worker_report(data: dict[str, Any], **_: Any) -> None:
    if "portalsim" in data:
        current_run.absorb(data["portalsim"])


def _final_drain() -> dict[str, Any] | None:
    simulation = this_process.simulation
    if simulation is None:
        return None
    simulation.book.unstarted(simulation.unstarted(time.time()))
    return simulation.drain()


@events.test_stop.add_listener
def _test_stop(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    final = _final_drain()
    if isinstance(runner, WorkerRunner):
        if final is not None:
            runner.send_message("portalsim_final", final)
        return
    if final is not None:
        current_run.absorb(final)
    if (
        current_run.world is None
        or current_run.description is None
        or current_run.started_at is None
        or current_run.finished
    ):
        return
    current_run.finished = True
    try:
        finish(environment)
    except Exception as exc:  # the run's figures are still written; the reason is printed last
        logger.exception("finishing the run failed")
        current_run.exit_code = EXIT_CRASH
        current_run.reason = f"FAILED: the harness failed while finishing: {exc}"


def _probe_once(host: str, start_real: float) -> bool:
    """One more probe of the target; whether it is silent now."""
    with httpx.Client(base_url=host) as client:
        asked = time.time()
        problem = probe(client)
        current_run.target.observe(asked - start_real, time.time() - start_real, problem)
    return not current_run.target.answering


def _audit(host: str, world: World, settings: Settings, *, fresh_portal: bool) -> AuditReport:
    """The audit, or why it could not be performed (a target that stopped answering, or one
    that failed the audit's requests): never an exception that would lose the run's figures."""
    start_real = world.timeline.start_real
    # A stall that ended leaves the audit to run; a target still silent is not audited.
    if not current_run.target.answering and _probe_once(host, start_real):
        return AuditReport(not_performed=current_run.target.line())
    try:
        return audit_portal(
            host,
            current_run.ledger,
            agencies=[a.code for a in world.agencies],
            procedures={
                code: Procedure(p.processing_time, p.processing_unit)
                for code, p in world.procedures.items()
            },
            since=datetime.fromtimestamp(world.timeline.sim_start, UTC),
            settings=settings,
            cross_check_indicators=fresh_portal,
        )
    except httpx.HTTPError as error:
        logger.warning("the audit could not be performed: %r", error)
        if _probe_once(host, start_real):  # it fell silent during the run's last second
            return AuditReport(not_performed=current_run.target.line())
        return AuditReport(not_performed=f"the portal failed the audit: {http_failure(error)}")


def finish(environment: Environment) -> None:
    """The audit, results.json (then the reports and the knee filed), the summary, the verdict."""
    world, description = current_run.world, current_run.description
    assert world is not None
    assert description is not None
    workload = description.workload
    settings = this_process.settings
    audit = _audit(environment.host or "", world, settings, fresh_portal=description.fresh_portal)
    real_seconds = _ran_for(world)
    timeseries = current_run.book.timeseries()
    results = Results(
        run=_run_section(environment, world, description, real_seconds),
        plan=world.require_plan(),
        requests=current_run.book.requests_section(real_seconds),
        groups=current_run.book.groups_section(),
        all=figures_of(current_run.book.all_requests()),
        arrivals=_arrivals_section(current_run.book, workload),
        timeseries=timeseries,
        memory=Memory(
            sampled=bool(current_run.memory),
            pid=description.portal_pid,
            series_mib=current_run.memory,
        ),
        **_judged_sections(world, workload, audit, description.staffing_file),
        **_shape_sections(world, workload, timeseries),
    )
    results = _with_verdict(results, description)
    verdict = verdict_of_results(results)
    folder = write_results(description.out, results, current_run.ledger)
    record_knee(description.out, results)
    write_reports(folder, results)
    for line in summary_lines(results, folder):
        print(line)
    current_run.exit_code, current_run.reason = verdict.exit_code, verdict.reason


def _ran_for(world: World) -> float:
    """The run's real seconds: planned, or (stopped early) the time it ran, for the rates."""
    timeline = world.timeline
    if current_run.ended_at is None:
        return timeline.real_seconds
    return max(current_run.book.interval_seconds, current_run.ended_at - timeline.start_real)


def _run_section(
    environment: Environment, world: World, description: RunDescription, real_seconds: float
) -> RunSection:
    assert current_run.started_at is not None
    timeline = world.timeline
    return RunSection(
        id=description.run_id,
        started_at=current_run.started_at.isoformat(),
        finished_at=datetime.now(UTC).isoformat(),
        real_seconds=real_seconds,
        target=environment.host,
        gateway=description.gateway,
        seed=world.seed,
        scale=world.scale,
        speed=timeline.speed,
        simulated_from=datetime.fromtimestamp(timeline.sim_start, UTC).isoformat(),
        simulated_to=datetime.fromtimestamp(timeline.sim_end, UTC).isoformat(),
        valid=None,  # once the verdict is known
        workers=world.partitions,
        shape=str(world.shape["name"]),
        stopped=current_run.stopped,
        database=current_run.database,
    )


def _arrivals_section(book: Book, workload: Workload) -> Arrivals:
    counters = book.counters
    started = counters.get("arrivals.started", 0)
    unstarted = counters.get("arrivals.unstarted", 0)
    lag = latency_of(book.named["arrival.lag"]) if "arrival.lag" in book.named else None
    return Arrivals(
        intended=started + unstarted,
        started=started,
        late=counters.get("arrivals.late", 0) + unstarted,
        unstarted=unstarted,
        max_lag_ms=lag.max if lag else 0.0,
        lag_ms=lag,
        budget_ms=workload.run.lag_budget_ms,
        budget_share=workload.run.lag_budget_share,
        pools_exhausted={
            name.removeprefix("pool.exhausted."): count
            for name, count in sorted(counters.items())
            if name.startswith("pool.exhausted.")
        },
    )


class _JudgedSections(TypedDict):
    business: Business
    chain: Chain
    payments: Payments
    sync: Sync
    audit: Audit
    target: Target
    harness: Harness
    queueing: Queueing | None
    staffing: Staffing | None


def _judged_sections(
    world: World, workload: Workload, audit: AuditReport, staffing: str | None
) -> _JudgedSections:
    """The business figures (from the ledger and the portal's dossiers), the audit, and the
    health of the target and of the generator."""
    calendar = calendar_from_settings(this_process.settings)
    book = current_run.book
    return {
        "business": business_section(current_run.ledger, audit.views, world, workload, calendar),
        "chain": chain_section(
            current_run.ledger,
            audit.views,
            world.procedures,
            calendar,
            accepted_from=warm_up_instant(world, workload),
            budget_share=workload.run.chain_budget_share,
            out_of_order=book.counters.get("officers.out_of_order", 0),
        ),
        "payments": payments_section(book),
        "sync": sync_section(book),
        "audit": audit.section(),
        "target": current_run.target.section(),
        "harness": Harness(
            crashes=book.counters.get("harness.crashes", 0),
            generator_cpu_warnings=book.counters.get("cpu.high", 0),
            generator_cpu_percent=latency_of(
                book.named.get("generator.cpu_percent", new_histogram())
            ),
        ),
        "queueing": queueing_section(current_run.ledger, audit.views, world, workload, calendar),
        # The prediction for this staffing beside what the run measured.
        "staffing": (
            staffing_section(audit.views, current_run.ledger, world, workload, calendar, staffing)
            if staffing
            else None
        ),
    }


class _ShapeSections(TypedDict):
    steps: Steps | None
    soak: Soak | None


def _shape_sections(world: World, workload: Workload, timeseries: list[Interval]) -> _ShapeSections:
    """A step run's steps and knee; a soak's drift."""
    shape = world.shape_model
    steps = soak = None
    if isinstance(shape, StepShape):
        # The steps that ended by the stop (a step cut short is not judged).
        until = current_run.ended_at if current_run.ended_at is not None else time.time()
        _judge_steps(shape, parse_rules(shape.slo), world.timeline.start_real, until)
        steps = Steps(
            slo=shape.slo,
            levels=[shape.level_of(i) for i in range(shape.steps)],
            judged=current_run.steps,
            kept_to_schedule=kept_to_schedule(current_run.steps, workload.run.lag_budget_share),
            knee=knee(current_run.steps, world.require_plan().national_peak_rps),
        )
    if isinstance(shape, SoakShape):
        soak = drift_section(timeseries, current_run.memory)
    return {"steps": steps, "soak": soak}


def _with_verdict(results: Results, description: RunDescription) -> Results:
    """The run's validity, its thresholds judged (on the figures with validity) and its
    headroom: the sections that read the others."""
    run = results.run.model_copy(update={"valid": verdict_of_results(results).valid})
    results = results.model_copy(update={"run": run})
    outcomes = evaluate(description.thresholds.final_rules(), results)
    aborted = (
        current_run.stopped
        if current_run.stopped is not None and current_run.stopped.kind == "aborted"
        else None
    )
    thresholds = Thresholds(
        ok=all(o.ok for o in outcomes),
        rules=[o.section() for o in outcomes],
        aborted=aborted,
    )
    results = results.model_copy(update={"thresholds": thresholds})
    return results.model_copy(update={"headroom": headroom(description.out, results)})


@events.quitting.add_listener
def _quitting(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    if current_run.reason:
        print(current_run.reason)
    # The verdict, not Locust's "any request failed": failures are a measurement of the target.
    if current_run.finished or current_run.exit_code:
        environment.process_exit_code = current_run.exit_code
