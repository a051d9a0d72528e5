"""The verdict of a run (exit code and the reason printed last) and the summary a tester reads:
a crash outranks an invalid run, which outranks a failed audit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from loadtest.judge.results import (
    EXIT_AUDIT,
    EXIT_CRASH,
    EXIT_INVALID,
    Verdict,
    summary_lines,
    write_results,
)
from loadtest.results_model import Queueing, Results
from tests.loadtest.judge.results_data import latency, request, results_with


def verdict(
    *, lag_ok: bool = True, audit_ok: bool = True, crashes: int = 0, late: int = 0
) -> Verdict:
    return Verdict(
        lag_ok=lag_ok, audit_ok=audit_ok, crashes=crashes, late=late, intended=500, budget_ms=1000
    )


def test_exit_codes_are_distinct_and_non_zero() -> None:
    assert len({EXIT_INVALID, EXIT_AUDIT, EXIT_CRASH, 0}) == 4


def test_a_valid_audited_run_exits_zero() -> None:
    found = verdict()
    assert found.valid
    assert found.exit_code == 0
    assert found.reason == "OK: valid run, audit passed"


@pytest.mark.parametrize(
    ("lag_ok", "audit_ok", "crashes", "code", "reason"),
    [
        (False, False, 2, EXIT_CRASH, "FAILED: the harness crashed 2 times"),
        (True, False, 1, EXIT_CRASH, "FAILED: the harness crashed 1 times"),
        (False, True, 1, EXIT_CRASH, "FAILED: the harness crashed"),
        (False, False, 0, EXIT_INVALID, "INVALID: 40 of 500 arrivals started more than 1000 ms"),
        (False, True, 0, EXIT_INVALID, "INVALID:"),
        (True, False, 0, EXIT_AUDIT, "FAILED: the audit found lost, doubled or mismatched"),
    ],
)
def test_crash_outranks_invalid_which_outranks_audit(
    lag_ok: bool, audit_ok: bool, crashes: int, code: int, reason: str
) -> None:
    found = verdict(lag_ok=lag_ok, audit_ok=audit_ok, crashes=crashes, late=40)
    assert found.exit_code == code
    assert found.reason.startswith(reason)
    # A run that crashed or lagged is not valid; a failed audit alone leaves it valid.
    assert found.valid == (lag_ok and crashes == 0)


def test_invalid_with_no_arrival_says_so() -> None:
    found = Verdict(lag_ok=False, audit_ok=True, crashes=0, late=0, intended=0, budget_ms=1000)
    assert found.exit_code == EXIT_INVALID
    assert found.reason == "INVALID: no arrival fell within the run"


def minimal_results(*, audit_ok: bool = True, on_time: float | None = 0.9534) -> Results:
    percentiles = {"p50": 12.5, "p95": 80.0, "p99": 240.0}
    return results_with(
        run={
            "id": "20260302-070000",
            "scale": 0.01,
            "speed": 2400.0,
            "real_seconds": 120.0,
            "workers": 2,
        },
        plan={"simulated_hours": 80.0, "agencies": 12, "total_rps": 231.5},
        requests={
            "GET /api/v1/procedures": request("catalogue", 600, 3),
            "POST /api/v1/dossiers": request("submit", 120),
        },
        groups={"catalogue": {"count": 600, "latency_ms": latency(12.5, 240.0, 300.0)}},
        arrivals={
            "started": 700,
            "intended": 702,
            "late": 4,
            "budget_ms": 1000.0,
            "max_lag_ms": 1530.0,
        },
        business={
            "submitted": 120,
            "accepted": 110,
            "finished": 90,
            "returned": 80,
            "on_time_share": on_time,
            "measured": 75,
            "overdue": 3,
            "latency_working_hours": {**percentiles, "p50": 6.5, "p95": 30.0},
            "latency_real_s": {**percentiles, "p50": 10.0, "p95": 45.0},
        },
        payments={"confirmed": 30, "created": 32},
        sync={"accepted": 400, "refused": 0},
        audit={
            "ok": audit_ok,
            "checked": 120,
            "lost": [] if audit_ok else ["000.00.99.H01-260302-0007"],
            "duplicated": [],
            "mismatched": [] if audit_ok else ["X-1: status 4, the harness drove it to 9"],
        },
        harness={"generator_cpu_warnings": 0},
        headroom=None,
    )


def with_queueing(results: Results, **figures: Any) -> Results:
    model = {
        "arrivals_per_hour": 1.2,
        "service_mean_hours": 2.0,
        "officers": 4,
        "deadline_hours": 4.0,
        "agencies": 6,
    }
    queueing = {"wait_probability": 0.3, "measured_as_recorded": None, "model": model, **figures}
    return results.model_copy(update={"queueing": Queueing.model_validate(queueing)})


def test_summary_mentions_verdict_on_time_share_audit_and_path(tmp_path: Path) -> None:
    text = "\n".join(summary_lines(minimal_results(), tmp_path / "run-1"))
    assert "portalsim run 20260302-070000" in text
    assert "95.3% of 75 finished after the warm-up; 3 overdue" in text
    assert "audit     passed: 120 dossiers checked; lost 0, doubled 0, mismatched 0" in text
    assert f"results   {tmp_path / 'run-1' / 'results.json'}" in text
    assert "700 started of 702, 4 late (> 1000 ms), max lag 1,530 ms" in text
    # 720 requests over 120 s.
    assert "achieved 6.0 req/s on average; 3 failed" in text
    assert "queueing" not in text


def test_summary_of_a_failed_audit_names_the_codes(tmp_path: Path) -> None:
    lines = summary_lines(minimal_results(audit_ok=False, on_time=None), tmp_path)
    text = "\n".join(lines)
    assert "audit     FAILED: 120 dossiers checked; lost 1, doubled 0, mismatched 1" in text
    assert "    lost: 000.00.99.H01-260302-0007" in lines
    assert "    mismatched: X-1: status 4, the harness drove it to 9" in lines
    assert "on time   n/a of 75" in text


def test_summary_shows_the_queueing_check(tmp_path: Path) -> None:
    queueing = {"predicted": 0.9303, "measured": 0.9251, "n": 2100, "utilisation": 0.6}
    results = with_queueing(minimal_results(), **queueing)
    text = "\n".join(summary_lines(results, tmp_path))
    assert "M/M/c predicts 0.930 on time, measured 0.925 (n = 2100, rho = 0.60)" in text
    results = with_queueing(results, **queueing, batch_error=0.0212, measured_as_recorded=0.9102)
    text = "\n".join(summary_lines(results, tmp_path))
    assert (
        "M/M/c predicts 0.930 on time, measured 0.925 ± 0.021 (95%, batch means) "
        "(n = 2100, rho = 0.60); 0.910 by the recorded instants"
    ) in text
    assert "queue     " not in text  # files from before the per-dossier check


def test_summary_says_whether_the_officers_queue_was_the_models(tmp_path: Path) -> None:
    figures = {"predicted": 0.9303, "measured": 0.9251, "n": 2100, "utilisation": 0.6}
    kept = with_queueing(minimal_results(), **figures, queue={"checked": 2310, "elsewhere": 0})
    text = "\n".join(summary_lines(kept, tmp_path))
    assert "queue     the officers' queue was the model's: 0 of 2310 dossiers finished" in text
    swapped = with_queueing(minimal_results(), **figures, queue={"checked": 256, "elsewhere": 12})
    text = "\n".join(summary_lines(swapped, tmp_path))
    assert "queue     the officers' queue was NOT the model's: 12 of 256 dossiers" in text


def test_write_results_puts_both_files_in_the_runs_folder(tmp_path: Path) -> None:
    results = minimal_results()
    ledger = {"A-1": {"code": "A-1", "status": 10, "identity": "001000000001"}}
    folder = write_results(tmp_path, results, ledger)
    assert folder == tmp_path / "20260302-070000"
    written = (folder / "results.json").read_text(encoding="utf-8")
    assert Results.model_validate_json(written) == results
    assert json.loads((folder / "ledger.json").read_text(encoding="utf-8")) == ledger


def test_an_invalid_run_says_whether_the_pool_or_the_cpu_was_used_up() -> None:
    base = {
        "lag_ok": False,
        "audit_ok": True,
        "crashes": 0,
        "late": 9,
        "intended": 100,
        "budget_ms": 1000.0,
    }
    pool = Verdict(**base, pools_exhausted={"citizen": 3})  # type: ignore[arg-type]
    cpu = Verdict(**base, cpu_warnings=2)  # type: ignore[arg-type]
    assert pool.exit_code == cpu.exit_code == 3
    assert "every citizen user was busy waiting for the target" in pool.reason
    assert "the generator's CPU was the limit" in cpu.reason
