"""The harness's watch on its target: how long the portal left its health probe unanswered, and
what a run whose portal stopped answering says and exits with."""

from __future__ import annotations

from pathlib import Path

import httpx

from loadtest.drive.target import TargetWatch, http_failure
from loadtest.judge.results import EXIT_AUDIT, EXIT_TARGET, Verdict, summary_lines
from loadtest.results_model import Target
from tests.loadtest.judge.test_results import minimal_results


def test_a_stall_lasts_from_the_first_unanswered_probe_to_the_next_answer() -> None:
    watch = TargetWatch()
    watch.observe(1.0, 1.01, None)
    watch.observe(2.0, 5.0, "no answer within 3 s (GET /healthz)")  # frozen from about 2 s
    assert not watch.answering
    assert watch.silent_for(6.0) == 4.0
    watch.observe(6.0, 7.2, None)  # the next probe waited for the thaw
    assert watch.answering
    found = watch.section()
    assert found.stalls == [(2.0, 5.2)]
    assert found.longest_silence_s == 5.2
    assert found.stopped_answering_at_s is None


def test_a_silence_that_never_ends_counts_to_the_last_probe() -> None:
    watch = TargetWatch()
    watch.observe(1.0, 1.02, None)
    watch.observe(15.3, 15.31, "connection refused (GET /healthz)")
    watch.observe(25.0, 25.01, "connection refused (GET /healthz)")
    found = watch.section()
    assert found.answering is False
    assert found.longest_silence_s == 9.71
    assert watch.line() == "the portal stopped answering at 15 s: connection refused (GET /healthz)"


def test_a_target_that_failed_outranks_everything_but_a_harness_crash() -> None:
    failed = Verdict(
        lag_ok=False,
        audit_ok=False,
        crashes=0,
        late=40,
        intended=500,
        budget_ms=1000,
        broken=["broken: errors.rate < 1% (measured 35%)"],
        target_failed="the portal stopped answering at 15 s: connection refused (GET /healthz)",
        audit_not_performed="the portal stopped answering at 15 s: ...",
        ended_at_s=25.4,
    )
    assert failed.exit_code == EXIT_TARGET
    assert failed.reason == (
        "FAILED: the portal stopped answering at 15 s: connection refused (GET /healthz); the "
        "run ended at 25 s with what it measured until then, the audit was not performed"
    )
    assert Verdict(**{**failed.__dict__, "crashes": 1}).exit_code != EXIT_TARGET
    # An audit the portal failed, on a portal that still answers, is named as such.
    unaudited = Verdict(
        **{**failed.__dict__, "target_failed": None, "lag_ok": True, "broken": []},
    )
    assert unaudited.exit_code == EXIT_AUDIT
    assert unaudited.reason.startswith("FAILED: the audit was not performed: ")


def test_the_summary_says_when_the_target_stalled_and_why_the_audit_was_not_done(
    tmp_path: Path,
) -> None:
    results = minimal_results()
    target = Target(
        answering=False,
        stopped_answering_at_s=15.2,
        why="connection refused (GET /healthz)",
        longest_silence_s=10.1,
        stalls=[(4.0, 5.1)],
        probe="GET /healthz every second, 3 s time-out",
    )
    audit = results.audit.model_copy(update={"ok": False, "not_performed": "the portal stopped"})
    results = results.model_copy(update={"target": target, "audit": audit})
    lines = summary_lines(results, tmp_path)
    assert "  target    did not answer its health probe for 5.1 s from 4 s" in lines
    assert "  target    stopped answering at 15 s: connection refused (GET /healthz)" in lines
    assert "  audit     not performed: the portal stopped" in lines


def test_an_http_failure_is_named_in_a_few_words() -> None:
    request = httpx.Request("GET", "http://127.0.0.1:1/api/v1/agency/dossiers/X-1?page=2")
    answered = httpx.Response(500, request=request)
    error = httpx.HTTPStatusError("server error", request=request, response=answered)
    assert http_failure(error) == "HTTP 500 to GET /api/v1/agency/dossiers/X-1"
    refused = httpx.ConnectError("refused", request=request)
    assert http_failure(refused) == "connection refused (GET /api/v1/agency/dossiers/X-1)"


def test_the_last_line_and_results_json_give_the_same_second() -> None:
    """6.53 s is 6.5 in results.json, which a reader rounds to 6: the line says 6 too."""
    watch = TargetWatch()
    watch.observe(1.0, 1.02, None)
    watch.observe(6.53, 6.54, "connection refused (GET /healthz)")
    stopped = watch.section().stopped_answering_at_s
    assert stopped == 6.5
    assert watch.line().startswith(f"the portal stopped answering at {round(stopped)} s:")
