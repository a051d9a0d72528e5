"""The accelerated clock's distortion (issue 20): the business figures are judged by the instants
the workload intended, the time the back office's chain added is measured beside the deadline,
and a run past the budget is invalid, says so and exits 3."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.core.calendar import VIETNAM_TZ, WorkingCalendar
from loadtest.judge.distortion import (
    chain_line,
    chain_section,
    judged_views,
    percentile,
    queue_fidelity,
    timeliness_as_intended,
    working_minutes,
)
from loadtest.judge.results import EXIT_INVALID, summary_lines, verdict_of_results
from loadtest.model.officers import OfficerPool
from loadtest.model.world import Procedure
from loadtest.results_model import Chain, Results, Spread, Thresholds
from tests.loadtest.judge.test_results import minimal_results

# The queueing check's calendar: the receipt cut-off at the end of the working day.
CALENDAR = WorkingCalendar(cutoff=time(17, 0))
PROCEDURE = Procedure(
    code="1.000001",
    name="M/M/c",
    level="commune",
    field="test",
    legal_hours=8.0,
    processing_time=8,
    processing_unit="working_hour",
    fees_total=0,
    online_level="full",
)
PROCEDURES = {PROCEDURE.code: PROCEDURE}
MINUTE = timedelta(minutes=1)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of March 2026, Vietnam time (Monday 2 March is a plain working day)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=VIETNAM_TZ)


def dossier(
    code: str,
    meant_accepted: datetime,
    meant_finished: datetime,
    *,
    accept_delay: timedelta = timedelta(0),
    end_delay: timedelta = timedelta(0),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(ledger record, portal view) of a dossier the workload meant to accept and finish at the
    given instants, whose requests landed `accept_delay` and `end_delay` later (simulated): the
    view is what the portal computes from the instants it recorded."""
    accepted, finished = meant_accepted + accept_delay, meant_finished + end_delay
    due = CALENDAR.due_at(accepted, PROCEDURE.processing_time, "working_hour")
    record = {
        "code": code,
        "accept_intended": meant_accepted.isoformat(),
        "finish_intended": meant_finished.isoformat(),
    }
    view = {
        "code": code,
        "procedure_code": PROCEDURE.code,
        "accepted_at": accepted.isoformat(),
        "finished_at": finished.isoformat(),
        "due_at": due.isoformat(),
        "supplement_requests": 0,
        "timeliness": "overdue" if finished > due else "on_time",
    }
    return record, view


def section(
    records: list[tuple[dict[str, Any], dict[str, Any]]], budget_share: float = 0.1
) -> Chain:
    ledger = {record["code"]: record for record, _ in records}
    views = {view["code"]: view for _, view in records}
    return chain_section(
        ledger,
        views,
        PROCEDURES,
        CALENDAR,
        accepted_from=at(2, 0),
        budget_share=budget_share,
        out_of_order=0,
    )


def test_working_minutes_skip_the_night_and_keep_their_sign() -> None:
    assert working_minutes(at(3, 16, 50), at(4, 7, 40), CALENDAR) == 20
    assert working_minutes(at(4, 7, 40), at(3, 16, 50), CALENDAR) == -20
    assert working_minutes(at(3, 9), at(3, 9), CALENDAR) == 0


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile([7.0], 0.99) == 7


def test_a_late_landing_finish_is_judged_at_its_intended_instant() -> None:
    """Meant at 15:50 the next day against a due date of 16:00: on time, though its request
    landed at 16:20 and the portal, by the instant it recorded, says overdue."""
    record, view = dossier("A", at(3, 16), at(4, 15, 50), end_delay=30 * MINUTE)
    assert view["timeliness"] == "overdue"
    assert timeliness_as_intended(view, record, PROCEDURE, CALENDAR) == "on_time"
    assert section([(record, view)]).reclassified == 1


def test_the_portals_own_classification_stands_where_the_harness_knows_no_intent() -> None:
    _, view = dossier("A", at(3, 9), at(4, 12), end_delay=30 * MINUTE)
    counter = {"code": "A"}  # a counter dossier: synced with the back office's own instants
    assert timeliness_as_intended(view, counter, PROCEDURE, CALENDAR) == "overdue"
    assert timeliness_as_intended(view, None, PROCEDURE, CALENDAR) == "overdue"
    assert section([(counter, view)]).dossiers == 0


DELAY = st.integers(min_value=0, max_value=180).map(lambda m: m * MINUTE)


@given(
    accepted_minute=st.integers(min_value=0, max_value=8 * 60 * 5),
    sojourn_minutes=st.integers(min_value=1, max_value=8 * 60 * 3),
    accept_delay=DELAY,
    end_delay=DELAY,
)
def test_the_judged_timeliness_does_not_depend_on_where_the_requests_landed(
    accepted_minute: int, sojourn_minutes: int, accept_delay: timedelta, end_delay: timedelta
) -> None:
    """Whatever the machine added to the acceptance and the end, the dossier is judged as the
    model meant it; the added time is the recorded processing time minus the intended one."""
    meant_accepted = CALENDAR.add(at(2, 7, 30), accepted_minute * MINUTE)
    meant_finished = CALENDAR.add(meant_accepted, sojourn_minutes * MINUTE)
    exact = dossier("A", meant_accepted, meant_finished)
    slow = dossier(
        "A", meant_accepted, meant_finished, accept_delay=accept_delay, end_delay=end_delay
    )
    judged = judged_views({"A": slow[1]}, {"A": slow[0]}, PROCEDURES, CALENDAR)
    assert (judged["A"]["timeliness"] == "overdue") == (exact[1]["timeliness"] == "overdue")
    # Which figures count it (accepted after the warm-up, due before the end) does not move
    # with the machine either.
    for instant_of in ("accepted_at", "due_at", "finished_at"):
        assert judged["A"][instant_of] == exact[1][instant_of]

    added = section([slow]).added_working_minutes
    assert added is not None
    expected = working_minutes(
        meant_accepted + accept_delay, meant_finished + end_delay, CALENDAR
    ) - working_minutes(meant_accepted, meant_finished, CALENDAR)
    assert added.p50 == round(expected, 2)
    assert section([exact]).added_working_minutes == Spread(p50=0, p99=0, max=0)


def test_the_budget_is_the_p99_added_time_over_the_deadline() -> None:
    # 100 dossiers: 98 land 10 simulated minutes late at their end, 2 land 2 hours late.
    records = [
        dossier(
            f"D{i}",
            at(3, 9),
            at(3, 15),
            end_delay=(120 if i < 2 else 10) * MINUTE,
        )
        for i in range(100)
    ]
    quick = section(records)
    assert quick.dossiers == 100
    assert quick.added_working_minutes == Spread(p50=10, p99=120, max=120)
    assert quick.end_working_minutes == Spread(p50=10, p99=120, max=120)
    assert quick.acceptance_working_minutes == Spread(p50=0, p99=0, max=0)
    assert quick.deadline_hours == 8
    # p99 of |added| / deadline: 2 h of 8 h.
    assert quick.p99_share_of_deadline == 0.25
    assert quick.within_budget is False
    assert section(records, budget_share=0.25).within_budget is True
    assert section([]).within_budget is None


def results_with(chain: Chain) -> Results:
    return minimal_results().model_copy(update={"chain": chain, "thresholds": Thresholds()})


def test_a_run_past_the_budget_is_invalid_and_every_output_states_the_distortion(
    tmp_path: Path,
) -> None:
    slow = section([dossier("A", at(3, 9), at(3, 15), end_delay=90 * MINUTE)])
    results = results_with(slow)
    verdict = verdict_of_results(results)
    assert not verdict.valid
    assert verdict.exit_code == EXIT_INVALID
    assert verdict.reason.startswith("INVALID: the back office's chain added p50 +90.0 / p99")
    assert "PAST the budget of 10%" in verdict.reason
    summary = "\n".join(summary_lines(results, tmp_path))
    assert "  chain     added p50 +90.0 / p99 +90.0 working minutes" in summary
    assert "beside a deadline of 8 working hours" in summary
    assert f"  chain     {chain_line(slow)}" in summary

    quick = section([dossier("A", at(3, 9), at(3, 15), end_delay=3 * MINUTE)])
    fine = verdict_of_results(results_with(quick))
    assert fine.valid
    assert fine.exit_code == 0
    assert "within the budget of 10%" in "\n".join(summary_lines(results_with(quick), tmp_path))


def model_queue_ledger(seed: int, officers: int = 2, agencies: int = 2) -> dict[str, Any]:
    """The ledger of a run whose officers' queue was the model's: per agency, Poisson
    acceptances (busy: ρ 0.9) taken FCFS in their places by the harness's `OfficerPool`."""
    rng = random.Random(seed)
    opening = at(2, 7, 30)
    ledger: dict[str, Any] = {}
    for agency in range(agencies):
        pool = OfficerPool(officers, CALENDAR, opening)
        accepted = 0.0
        for place in range(40):
            accepted += rng.expovariate(1.0)
            accept_at = CALENDAR.add(opening, timedelta(hours=accepted))
            work = rng.expovariate(1 / (0.9 * officers))
            _, done = pool.assign(accept_at, work)
            code = f"A{agency}-{place}"
            ledger[code] = {
                "code": code,
                "agency": f"A{agency}",
                "place": place,
                "accept_intended": accept_at.isoformat(),
                "finish_intended": done.isoformat(),
                "work_hours": work,
            }
    return ledger


@given(st.integers(min_value=0, max_value=10_000))
def test_a_queue_that_was_the_models_finishes_every_dossier_where_the_model_does(
    seed: int,
) -> None:
    fidelity = queue_fidelity(model_queue_ledger(seed), CALENDAR, at(2, 7, 30), officers=2)
    assert fidelity.checked == 80
    assert fidelity.elsewhere == 0


def test_the_queue_check_catches_dossiers_taken_out_of_place_or_with_other_work() -> None:
    ledger = model_queue_ledger(seed=7)
    reordered = {code: dict(record) for code, record in ledger.items()}
    for record in reordered.values():  # the agency's queue took its dossiers last first
        if record["agency"] == "A0":
            record["place"] = 39 - record["place"]
    assert queue_fidelity(reordered, CALENDAR, at(2, 7, 30), officers=2).elsewhere > 10
    other_work = {code: dict(record) for code, record in ledger.items()}
    other_work["A1-20"]["work_hours"] += 0.25  # the officer worked on something else
    assert queue_fidelity(other_work, CALENDAR, at(2, 7, 30), officers=2).elsewhere == 1
    unfinished = {code: dict(record) for code, record in ledger.items()}
    unfinished["A1-20"]["finish_intended"] = None  # still with an officer: later ones unknown
    assert queue_fidelity(unfinished, CALENDAR, at(2, 7, 30), officers=2).checked == 60
