"""Business figures of a run, from the harness's ledger and the portal's own view of each
dossier: throughput of dossiers, on-time share (domain.md's rules, as the portal classifies, with
the acceptance and end the workload intended: loadtest/judge/distortion.py), business latency in
working hours and in real seconds, payments, sync, and the M/M/c check."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from app.core.calendar import WorkingCalendar
from loadtest.judge.audit import LedgerRecord, PortalDossier, instant
from loadtest.judge.distortion import DECIDED, ON_TIME, judged_views, queue_fidelity
from loadtest.metrics import Book, latency_of, new_histogram, percentiles_ms, record_ms
from loadtest.model.queueing import MMc, batch_means_error
from loadtest.model.workload import Workload
from loadtest.model.world import World
from loadtest.results_model import (
    Business,
    HoursPercentiles,
    OnTime,
    OnTimeBucket,
    Payments,
    Queueing,
    QueueingModel,
    Sync,
)


def _percentiles(values: list[float]) -> HoursPercentiles:
    """p50/p95/p99 of plain values (hours or seconds) through an HdrHistogram of thousandths."""
    histogram = new_histogram()
    for value in values:
        record_ms(histogram, value)  # a value in units is kept to three decimals
    found = percentiles_ms(histogram)
    return HoursPercentiles(p50=found["p50"], p95=found["p95"], p99=found["p99"])


def _share(views: list[PortalDossier]) -> OnTime:
    decided = [v for v in views if v["timeliness"] in DECIDED]
    on_time = sum(1 for v in decided if v["timeliness"] in ON_TIME)
    return OnTime(
        finished=len(decided),
        on_time_share=round(on_time / len(decided), 4) if decided else None,
    )


OVER_TIME_BUCKETS = 12


def on_time_over_time(
    views: list[PortalDossier], start: datetime, end: datetime
) -> list[OnTimeBucket]:
    """The on-time share of the dossiers finished in each twelfth of the simulated span (an
    hour at least), by their finishing instant: how the share moved as queues built up."""
    width = max((end - start) / OVER_TIME_BUCKETS, timedelta(hours=1))
    count = max(1, math.ceil((end - start) / width))
    buckets: list[list[PortalDossier]] = [[] for _ in range(count)]
    for view in views:
        if view["timeliness"] in DECIDED and view["finished_at"]:
            index = int((instant(view["finished_at"]) - start) / width)
            buckets[min(count - 1, max(0, index))].append(view)
    shares = [_share(bucket) for bucket in buckets]
    return [
        OnTimeBucket(
            start=(start + index * width).isoformat(),
            end=(start + (index + 1) * width).isoformat(),
            finished=share.finished,
            on_time_share=share.on_time_share,
        )
        for index, share in enumerate(shares)
    ]


def warm_up_instant(world: World, workload: Workload) -> datetime:
    """The simulated instant the warm-up ends: dossiers accepted before are not measured."""
    timeline = world.timeline
    return datetime.fromtimestamp(
        timeline.sim_start + workload.run.warmup_share * (timeline.sim_end - timeline.sim_start),
        UTC,
    )


def business_section(
    ledger: dict[str, LedgerRecord],
    views: dict[str, PortalDossier],
    world: World,
    workload: Workload,
    calendar: WorkingCalendar,
) -> Business:
    timeline = world.timeline
    warm_up = warm_up_instant(world, workload)
    agencies = {a.code: a for a in world.agencies}
    judged = judged_views(views, ledger, world.procedures, calendar)
    finished = [v for v in judged.values() if v["finished_at"]]
    measured = [v for v in finished if v["accepted_at"] and instant(v["accepted_at"]) >= warm_up]
    returned = [v for v in views.values() if v["returned_at"]]
    working_hours = [
        calendar.between(instant(v["submitted_at"]), instant(v["returned_at"])) / timedelta(hours=1)
        for v in returned
    ]
    real_seconds = [
        r["returned_real"] - r["submitted_real"] for r in ledger.values() if r["returned_real"]
    ]
    by: dict[str, dict[str, list[PortalDossier]]] = defaultdict(lambda: defaultdict(list))
    for view in measured:
        procedure = world.procedures[view["procedure_code"]]
        by["level"][agencies[ledger[view["code"]]["agency"]].level].append(view)
        by["channel"]["online" if view["channel"] == 2 else "counter"].append(view)
        by["field"][procedure.field].append(view)
    share = _share(measured)
    return Business(
        submitted=len(ledger),
        accepted=sum(1 for v in views.values() if v["accepted_at"]),
        finished=len(finished),
        returned=len(returned),
        on_time_share=share.on_time_share,
        # The portal's own classification, from the instants its requests landed.
        on_time_share_as_recorded=_share([views[v["code"]] for v in measured]).on_time_share,
        measured=len(measured),
        decided=share.finished,
        overdue=sum(1 for v in judged.values() if v["timeliness"] == "overdue"),
        latency_working_hours=_percentiles(working_hours),
        latency_real_s=_percentiles(real_seconds),
        by={
            dimension: {key: _share(group) for key, group in sorted(groups.items())}
            for dimension, groups in sorted(by.items())
        },
        over_time=on_time_over_time(
            list(judged.values()),
            datetime.fromtimestamp(timeline.sim_start, UTC),
            datetime.fromtimestamp(timeline.sim_end, UTC),
        ),
    )


def payments_section(book: Book) -> Payments:
    counters = book.counters
    return Payments(
        created=counters.get("payments.created", 0),
        confirmed=counters.get("payments.confirmed", 0),
        failed=counters.get("payments.failed", 0),
        unconfirmed=counters.get("payments.unconfirmed", 0),
        confirmation_ms=latency_of(book.named.get("payment.confirmation", new_histogram())),
    )


def sync_section(book: Book) -> Sync:
    counters = book.counters
    return Sync(
        items=counters.get("sync.items", 0),
        resent=counters.get("sync.resent", 0),
        accepted=counters.get("sync.accepted", 0),
        kept_out_of_order=counters.get("sync.kept", 0),
        refused=counters.get("sync.refused", 0),
        lag_ms=latency_of(book.named.get("sync.lag", new_histogram())),
    )


def queueing_section(
    ledger: dict[str, LedgerRecord],
    views: dict[str, PortalDossier],
    world: World,
    workload: Workload,
    calendar: WorkingCalendar,
) -> Queueing | None:
    """The Erlang-C prediction beside the measured share: dossiers accepted after the warm-up
    and early enough that their due date passed before the run ended, so that each is decided
    (finished by its due date, or not), judged by the instants the workload intended; the share
    as the portal recorded it beside."""
    queueing = workload.queueing
    # The agencies' officers: the workload's, or those `--staffing` gave them. Staffed unevenly,
    # there is no one c: the staffing section predicts each agency instead.
    officers = {agency.officers for agency in world.agencies}
    if queueing is None or len(officers) != 1:
        return None
    model = MMc(
        arrival_rate=queueing.arrivals_per_hour * world.scale,
        service_mean=queueing.service_mean_hours,
        servers=officers.pop(),
    )
    timeline = world.timeline
    start = datetime.fromtimestamp(timeline.sim_start, UTC)
    end = datetime.fromtimestamp(timeline.sim_end, UTC)
    warm_up = calendar.add(start, calendar.between(start, end) * workload.run.warmup_share)
    outcomes: list[tuple[datetime, bool]] = []  # (accepted, on time) of each decided dossier
    on_time_as_recorded = 0
    for code, judged in judged_views(views, ledger, world.procedures, calendar).items():
        if not judged["accepted_at"] or not judged["due_at"]:
            continue
        accepted = instant(judged["accepted_at"])
        if accepted < warm_up or instant(judged["due_at"]) >= end:
            continue
        outcomes.append((accepted, judged["timeliness"] in ON_TIME))
        on_time_as_recorded += views[code]["timeliness"] in ON_TIME
    decided, on_time = len(outcomes), sum(ok for _, ok in outcomes)
    batch_error = batch_means_error([ok for _, ok in sorted(outcomes)])
    predicted = model.on_time_share(queueing.deadline_hours)
    # The harness's officers' queues open at the timeline's start (`Simulation.officers`).
    queue = queue_fidelity(ledger, calendar, start, model.servers)
    return Queueing(
        predicted=round(predicted, 4),
        measured=round(on_time / decided, 4) if decided else None,
        measured_as_recorded=round(on_time_as_recorded / decided, 4) if decided else None,
        batch_error=None if batch_error is None else round(batch_error, 4),
        n=decided,
        utilisation=round(model.utilisation, 4),
        wait_probability=round(model.wait_probability, 4),
        model=QueueingModel(
            arrivals_per_hour=model.arrival_rate,
            service_mean_hours=model.service_mean,
            officers=model.servers,
            deadline_hours=queueing.deadline_hours,
            agencies=len(world.agencies),
        ),
        queue=queue,
    )
