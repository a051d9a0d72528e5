"""What the accelerated clock does to the business figures, measured and removed (issue 20).

At speed s every real second is s simulated seconds: the portal stamps a step when its request
lands, so the real time a request or a hand-off of the back office's chain takes (the task's
dispatch, a busy pool, the request itself) lands in the instants that decide lateness, scaled by
the clock's speed (x7200: 10 ms real = 72 s simulated). The harness keeps, per dossier, the
simulated instants the workload intended for those steps (acceptance: the inbox poll that took
the dossier in; the end of processing: the officer's finish) beside the instants the portal
recorded, and from them:

- judges lateness by the intended instants: the due date the portal's rules give from the
  intended acceptance, against the intended end (the officers' queue runs on intended instants
  too, loadtest/drive/users/backoffice.py), so the business figures do not depend on the machine;
- measures what the chain added to each dossier: its processing time as the portal recorded it
  minus as intended, in working time, beside its deadline, and the two hops apart;
- declares the run invalid past a budget: a p99 added time over a stated share of the deadline
  means the portal's own figures (indicators, dashboards, its timeliness), which nothing
  corrects, carry the machine's speed more than the model's;
- checks that the officers' queue was the model's, dossier by dossier (`queue_fidelity`: each
  finished where FCFS over the intended instants and its drawn work finishes it).

Pure: instants in, figures out."""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta

from app.core.calendar import ProcessingUnit, WorkingCalendar
from app.dossiers.deadlines import classify
from loadtest.judge.audit import LedgerRecord, PortalDossier, instant
from loadtest.model.world import Procedure
from loadtest.results_model import Chain, QueueFidelity, Spread

DECIDED = ("early", "on_time", "overdue")
ON_TIME = ("early", "on_time")
MINUTE = timedelta(minutes=1)
# Instants are kept to the microsecond, working hours to float error: a second apart is elsewhere.
SAME_INSTANT_HOURS = 1 / 3600


def working_minutes(start: datetime, end: datetime, calendar: WorkingCalendar) -> float:
    """Working minutes from `start` to `end`, negative when `end` comes first."""
    if end < start:
        return -working_minutes(end, start, calendar)
    return calendar.between(start, end) / MINUTE


def intended_due(
    view: PortalDossier, record: LedgerRecord, procedure: Procedure, calendar: WorkingCalendar
) -> datetime:
    """The due date by the portal's rule from the intended acceptance; a dossier whose clock a
    supplement request paused keeps the portal's (shifted by the pause as recorded)."""
    if view["supplement_requests"]:
        return instant(view["due_at"])
    unit: ProcessingUnit = procedure.processing_unit  # type: ignore[assignment]
    return calendar.due_at(instant(record["accept_intended"]), procedure.processing_time, unit)


def _intended(record: LedgerRecord | None, view: PortalDossier) -> bool:
    """Whether the harness knows both instants the dossier was meant to be accepted and ended
    at, and the portal decided it (not so for counter dossiers, open ones, or one stopped while
    a supplement was awaited)."""
    return (
        record is not None
        and bool(record.get("accept_intended"))
        and bool(record.get("finish_intended"))
        and view["timeliness"] in DECIDED
        and bool(view["accepted_at"])
        and bool(view["finished_at"])
    )


def timeliness_as_intended(
    view: PortalDossier,
    record: LedgerRecord | None,
    procedure: Procedure,
    calendar: WorkingCalendar,
) -> str | None:
    """The portal's classification of a finished dossier redone with the intended acceptance
    and end; the portal's own when the harness does not know them."""
    if record is None or not _intended(record, view):
        portal: str | None = view["timeliness"]
        return portal
    end = instant(record["finish_intended"])
    return classify(
        due_at=intended_due(view, record, procedure, calendar),
        finished_at=end,
        paused_at=None,
        supplement_requests=view["supplement_requests"],
        now=end,
    )


def judged_view(
    view: PortalDossier,
    record: LedgerRecord | None,
    procedure: Procedure,
    calendar: WorkingCalendar,
) -> PortalDossier:
    """The portal's view of a dossier as the workload intended it: its acceptance, due date,
    end and timeliness from the intended instants where the harness knows them, so that which
    dossiers a figure counts (accepted after the warm-up, due before the end) does not depend
    on the machine either; the portal's own otherwise."""
    if record is None or not _intended(record, view):
        return view
    return {
        **view,
        "accepted_at": record["accept_intended"],
        "due_at": intended_due(view, record, procedure, calendar).isoformat(),
        "finished_at": record["finish_intended"],
        "timeliness": timeliness_as_intended(view, record, procedure, calendar),
    }


def judged_views(
    views: dict[str, PortalDossier],
    ledger: dict[str, LedgerRecord],
    procedures: Mapping[str, Procedure],
    calendar: WorkingCalendar,
) -> dict[str, PortalDossier]:
    """The portal's views as the workload intended them (`judged_view`)."""
    return {
        code: judged_view(view, ledger.get(code), procedures[view["procedure_code"]], calendar)
        for code, view in views.items()
    }


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values` (not empty): the smallest value with at least
    `share` of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def spread(values: list[float]) -> Spread | None:
    """p50, p99 and max of `values`, rounded to a hundredth; None when there are none."""
    if not values:
        return None
    return Spread(
        p50=round(percentile(values, 0.5), 2),
        p99=round(percentile(values, 0.99), 2),
        max=round(max(values), 2),
    )


def chain_section(
    ledger: dict[str, LedgerRecord],
    views: dict[str, PortalDossier],
    procedures: Mapping[str, Procedure],
    calendar: WorkingCalendar,
    *,
    accepted_from: datetime,
    budget_share: float,
    out_of_order: int,
) -> Chain:
    """What the chain added to each decided dossier accepted from `accepted_from` (after the
    warm-up), in working minutes of simulated time: to its processing time (recorded minus
    intended: what lands in the portal's figures), and at each hop (intended to recorded
    acceptance, and end). Within budget when the p99 of |added| over each dossier's deadline is
    at most `budget_share`; None when no dossier was decided. `out_of_order` dossiers joined
    the officers' queue after a later place (`IntakeLine`)."""
    added: list[float] = []
    acceptance: list[float] = []
    end: list[float] = []
    shares: list[float] = []
    deadlines: list[float] = []
    reclassified = 0
    for code, view in views.items():
        record = ledger.get(code)
        if record is None or not _intended(record, view):
            continue
        accepted = instant(view["accepted_at"])
        if accepted < accepted_from:
            continue
        finished = instant(view["finished_at"])
        meant_accepted = instant(record["accept_intended"])
        meant_finished = instant(record["finish_intended"])
        procedure = procedures[view["procedure_code"]]
        minutes = working_minutes(accepted, finished, calendar) - working_minutes(
            meant_accepted, meant_finished, calendar
        )
        added.append(minutes)
        acceptance.append(working_minutes(meant_accepted, accepted, calendar))
        end.append(working_minutes(meant_finished, finished, calendar))
        deadlines.append(procedure.legal_hours)
        shares.append(abs(minutes) / 60 / procedure.legal_hours)
        intended = timeliness_as_intended(view, record, procedure, calendar)
        reclassified += (view["timeliness"] in ON_TIME) != (intended in ON_TIME)
    p99_share = round(percentile(shares, 0.99), 4) if shares else None
    return Chain(
        dossiers=len(added),
        added_working_minutes=spread(added),
        acceptance_working_minutes=spread(acceptance),
        end_working_minutes=spread(end),
        deadline_hours=min(deadlines) if deadlines else None,
        p99_share_of_deadline=p99_share,
        budget_share=budget_share,
        within_budget=None if p99_share is None else p99_share <= budget_share,
        reclassified=reclassified,
        out_of_order=out_of_order,
    )


def chain_line(chain: Chain) -> str:
    """The chain's distortion in one sentence, for the summary and the reports."""
    added = chain.added_working_minutes
    if added is None or chain.deadline_hours is None or chain.p99_share_of_deadline is None:
        return "added nothing measurable: no dossier was decided after the warm-up"
    verdict = "within" if chain.within_budget else "PAST"
    return (
        f"added p50 {added.p50:+.1f} / p99 {added.p99:+.1f} working minutes of simulated "
        f"time to a dossier's processing, beside a deadline of {chain.deadline_hours:g} "
        f"working hours (p99 |added| {chain.p99_share_of_deadline:.1%} of it, {verdict} the "
        f"budget of {chain.budget_share * 100:g}%); {chain.reclassified} of "
        f"{chain.dossiers} dossiers judged otherwise by their intended instants"
        + (
            f"; {chain.out_of_order} joined the officers' queue out of their place"
            if chain.out_of_order
            else ""
        )
    )


def queue_fidelity(
    ledger: Mapping[str, LedgerRecord],
    calendar: WorkingCalendar,
    opening: datetime,
    officers: int,
) -> QueueFidelity:
    """Whether a run's officers' queue was the model's, dossier by dossier: per agency, in
    their places, each taken at its intended acceptance by the officer free first (FCFS over
    the intended instants, `officers` an agency) must finish its drawn work (`work_hours` in
    the ledger) at its intended finish. A queue that took dossiers out of that order or at
    other instants finishes some elsewhere; one that was the model's leaves only the draws'
    chance to the on-time share, so this checks the harness far more tightly than that share's
    spread."""

    def hours(iso: str) -> float:
        return working_minutes(opening, instant(iso), calendar) / 60

    by_agency: dict[str, list[tuple[int, float, float | None, float]]] = defaultdict(list)
    for record in ledger.values():
        if record.get("place") is not None and record.get("work_hours") is not None:
            finish = record.get("finish_intended")
            by_agency[record["agency"]].append(
                (
                    record["place"],
                    hours(record["accept_intended"]),
                    finish and hours(finish),
                    record["work_hours"],
                )
            )
    checked = elsewhere = 0
    for dossiers in by_agency.values():
        free = [0.0] * officers
        for _, ready, finished, work in sorted(dossiers):
            if finished is None:  # an officer busy until an unknown instant: stop here
                break
            taken = max(ready, free[0])
            heapq.heapreplace(free, finished)
            checked += 1
            elsewhere += abs(taken + work - finished) > SAME_INSTANT_HOURS
    return QueueFidelity(checked=checked, elsewhere=elsewhere)


def queue_line(queue: QueueFidelity) -> str:
    """Whether the officers' queue was the model's, for the summary and the reports."""
    verdict = "the model's" if queue.elsewhere == 0 else "NOT the model's"
    return (
        f"the officers' queue was {verdict}: {queue.elsewhere} of {queue.checked} dossiers "
        "finished elsewhere than FCFS over their intended instants and drawn work finishes them"
    )
