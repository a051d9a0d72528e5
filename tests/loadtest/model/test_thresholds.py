"""SLO rules: parsing (with the position of every mistake), judging against results.json and
against a live snapshot, the config section and the `--thresholds` file.

tests/data/results-sample.json is the results.json of a real 30 s run of the default workload."""

from __future__ import annotations

import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from loadtest.model.thresholds import (
    OPERATORS,
    Outcome,
    Rule,
    Snapshot,
    ThresholdError,
    ThresholdsSection,
    evaluate,
    evaluate_live,
    load_thresholds_file,
    parse_rule,
    parse_rules,
)
from loadtest.results_model import Results, load_results
from tests.loadtest.judge.results_data import SAMPLE, latency, request, results_with


def results() -> Results:
    """A small run: 10 s, 1,000 requests, 4 failed (all in the catalogue group)."""
    return results_with(
        run={"real_seconds": 10.0, "valid": True},
        requests={
            "POST /api/v1/dossiers": {
                "group": "submit",
                "count": 100,
                "failures": 0,
                "rps": 10.0,
                "latency_ms": latency(20, 412.3, 900),
            },
            "GET /api/v1/procedures?q": {
                "group": "catalogue",
                "count": 600,
                "failures": 3,
                "rps": 60.0,
                "latency_ms": latency(5, 40, 80),
            },
            "GET /api/v1/procedures/[code]": {
                "group": "catalogue",
                "count": 300,
                "failures": 1,
                "rps": 30.0,
                "latency_ms": latency(4, 30, 60),
            },
        },
        groups={
            "submit": {"count": 100, "latency_ms": latency(20, 412.3, 900)},
            "catalogue": {"count": 900, "latency_ms": latency(5, 38, 80)},
            "sync": {"count": 0, "latency_ms": latency(0, 0, 0)},
        },
        all={"count": 1000, "latency_ms": latency(6, 300, 900)},
        arrivals={"max_lag_ms": 4.5, "late": 0},
        business={
            "on_time_share": 0.9,
            "finished": 10,
            "on_time_share_as_recorded": None,
            "latency_working_hours": {"p50": 2.5, "p95": 7.0, "p99": 7.5},
            "by": {"level": {"commune": {"finished": 0, "on_time_share": None}}},
        },
        payments={"confirmed": 9},
        sync={"items": 81},
        audit={"ok": False, "lost": ["X"]},
        queueing=None,
    )


def judge(text: str, data: Results | None = None) -> Outcome:
    [outcome] = evaluate([parse_rule(text)], results() if data is None else data)
    return outcome


def refusal(text: str) -> str:
    with pytest.raises(ThresholdError) as caught:
        parse_rule(text)
    return str(caught.value)


# -- operators, numbers and metrics --------------------------------------------------------------


@pytest.mark.parametrize(
    ("met", "broken"),
    [
        ("submit.p99_ms < 413", "submit.p99_ms < 412.3"),
        ("submit.p99_ms <= 412.3", "submit.p99_ms <= 412"),
        ("submit.p99_ms > 412", "submit.p99_ms > 412.3"),
        ("submit.p99_ms >= 412.3", "submit.p99_ms >= 413"),
        ("submit.p99_ms == 412.3", "submit.p99_ms == 412"),
        ("submit.p99_ms != 412", "submit.p99_ms != 412.3"),
    ],
)
def test_every_operator_is_met_and_broken(met: str, broken: str) -> None:
    assert judge(met).ok
    assert judge(met).measured == 412.3
    assert not judge(broken).ok
    assert judge(broken).line() == f"broken: {broken} (measured 412.3)"
    assert judge(met).line() == f"met: {met} (measured 412.3)"


def test_percent_divides_by_a_hundred_and_shows_the_measure_as_percent() -> None:
    # 4 failures over 900 catalogue requests: 0.44%.
    assert parse_rule("catalogue.error_rate < 1%").threshold == pytest.approx(0.01)
    assert judge("catalogue.error_rate < 1%").ok
    broken = judge("catalogue.error_rate < 0.4%")
    assert not broken.ok
    assert broken.line() == "broken: catalogue.error_rate < 0.4% (measured 0.4444%)"
    assert judge("errors.rate <= 0.4%").ok
    assert not judge("errors.rate < 0.4%").ok


def test_booleans_are_bare_rules() -> None:
    assert judge("run.valid").ok
    failed = judge("audit.ok")
    assert (failed.ok, failed.measured, failed.reason) == (False, False, None)
    assert failed.line() == "broken: audit.ok (measured false)"


def test_a_bare_rule_on_a_number_and_a_comparison_on_a_boolean_are_broken() -> None:
    bare = judge("business.on_time_share")
    assert not bare.ok
    assert bare.reason == "not a boolean: measured 0.9; add an operator"
    compared = judge("run.valid == 1")
    assert not compared.ok
    assert compared.reason is not None
    assert "write the bare rule run.valid" in compared.reason


def test_bracketed_request_names() -> None:
    assert judge("[POST /api/v1/dossiers].p99_ms < 413").measured == 412.3
    # Route templates hold brackets of their own: the name ends at the balancing "]".
    assert judge("[GET /api/v1/procedures/[code]].count == 300").ok
    assert judge("[GET /api/v1/procedures?q].failures == 3").ok
    assert judge("[GET /api/v1/procedures?q].error_rate == 0.5%").ok
    assert judge("[ POST /api/v1/dossiers ].rps == 10").ok
    assert (
        str(parse_rule("[ POST /api/v1/dossiers ].rps==10")) == "[POST /api/v1/dossiers].rps == 10"
    )
    missing = judge("[GET /nowhere].count > 0")
    assert missing.reason == 'no value: no request named "GET /nowhere" in the results'


def test_group_metrics() -> None:
    assert judge("catalogue.count == 900").ok
    assert judge("catalogue.rps == 90").ok
    assert judge("submit.max_ms == 900").ok
    assert judge("submit.p50_ms == 20").ok
    assert judge(f"catalogue.error_rate == {4 / 900!r}").ok
    # "sync" is both a route group and a section: a group leaf means the group.
    assert parse_rule("sync.p99_ms < 50").kind == "group"
    assert parse_rule("sync.items > 3").kind == "path"
    assert judge("sync.items == 81").ok


def test_all_metrics_cover_every_request() -> None:
    assert judge("all.p99_ms == 300").ok
    assert judge("all.count == 1000").ok
    assert judge("all.rps == 100").ok
    assert judge("all.error_rate == 0.004").ok
    assert judge("all.max_ms <= 900").ok


def test_errors_rate_and_count() -> None:
    assert judge("errors.count == 4").ok
    assert judge("errors.rate == 0.004").ok
    assert not judge("errors.rate < 0.001").ok


def test_nested_paths_into_sections() -> None:
    assert judge("business.latency_working_hours.p95 < 8").measured == 7.0
    assert judge("business.on_time_share >= 0.9").ok
    assert not judge("business.on_time_share >= 0.95").ok
    assert judge("arrivals.max_lag_ms < 1000").ok
    assert judge("payments.confirmed == 9").ok
    assert judge("groups.submit.latency_ms.p99 == 412.3").ok


# -- no value is never a pass ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("business.on_time_share_as_recorded > 0.9", "on_time_share_as_recorded is null"),
        ("business.by.level.commune.on_time_share >= 0.9", "on_time_share is null"),
        ("business.nope > 1", 'business has no "nope" (it has accepted, by, decided,'),
        ("queueing.measured > 0.9", 'results has no "queueing"'),
        ("audit.lost == 0", "audit.lost is a list, not a number or a boolean"),
        ("bogus.p99_ms < 300", 'no request in group "bogus" (groups seen: catalogue, submit,'),
        ("sync.p99_ms < 300", 'no request completed in group "sync", so no latency'),
        ("sync.error_rate < 1%", 'no request completed in group "sync"'),
    ],
)
def test_a_missing_or_null_value_is_broken_with_a_reason(text: str, reason: str) -> None:
    outcome = judge(text)
    assert not outcome.ok
    assert outcome.measured is None
    assert outcome.reason is not None
    assert outcome.reason.startswith("no value: ")
    assert reason in outcome.reason
    assert outcome.line().startswith(f"broken: {parse_rule(text)} (no value: ")


def test_a_rate_needs_a_positive_duration() -> None:
    run = results()
    stopped_at_once = run.model_copy(update={"run": run.run.model_copy(update={"real_seconds": 0})})
    rate = judge("catalogue.rps > 1", stopped_at_once).reason
    assert rate == "no value: run.real_seconds is not positive, so no rate"
    assert judge("all.error_rate == 0.004", stopped_at_once).ok  # needs no duration


# -- malformed rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("submit.p99_ms << 300", 'at 16, expected a number after "<", found "<"'),
        ("submit.p99_ms <", 'at 16, expected a number after "<", found the end'),
        ("submit.p99_ms < fast", 'at 17, expected a number after "<", found "fast"'),
        ("submit.p99_ms =< 300", "at 15, expected an operator (<, <=, >, >=, ==, !=) or the end"),
        ("submit.p99_ms = 300", "at 15, expected an operator (<, <=, >, >=, ==, !=) or the end"),
        ("submit.p99_ms < 300 ms", 'at 21, expected the end of the rule after "300", found "ms"'),
        ("submit.p99_ms<300x", 'at 18, expected the end of the rule after "300", found "x"'),
        ("foo.bar < 1", "at 1, expected a known root (all, errors, [request name], a route group"),
        ("", "at 1, expected a metric (the rule is empty), found the end"),
        ("   ", "at 4, expected a metric (the rule is empty), found the end"),
        ("submit.p99_ms", 'at 14, expected an operator and a number after "submit.p99_ms"'),
        ("all.count", 'at 10, expected an operator and a number after "all.count"'),
        ("[GET /x].count", 'at 15, expected an operator and a number after "[GET /x].count"'),
        ("errors.rate  ", 'at 14, expected an operator and a number after "errors.rate"'),
        ("submit.p75_ms < 3", "at 8, expected a recorded latency (p50_ms, p90_ms, p95_ms"),
        ("[GET /x] < 3", 'at 9, expected "." and a request metric after "[GET /x]"'),
        ("[GET /x.count < 3", 'at 18, expected "]" closing the request name opened at 1'),
        ("[GET /x/[code].count < 3", 'at 25, expected "]" closing the request name opened at 1'),
        ("[].count < 3", "at 2, expected a request name inside [...]"),
        ("[GET /x].latency < 3", "at 10, expected one of p50_ms,"),
        ("all.p99_ms.x < 3", 'at 11, expected an operator or the end of the metric, found ".x"'),
        ("all < 3", 'at 4, expected "." and one of p50_ms,'),
        ("errors.total < 3", 'at 8, expected one of rate, count after "errors.", found "total"'),
        ("audit", 'at 6, expected "." and a name inside "audit", found the end'),
        ("business. < 1", 'at 10, expected a name after ".", found "<"'),
        ("errors.count < 1e999", "at 16, expected a finite number"),
    ],
)
def test_malformed_rules_name_the_rule_and_the_position(text: str, message: str) -> None:
    found = refusal(text)
    assert found.startswith(f'threshold "{text}": ')
    assert message in found


def test_parse_rules_refuses_the_first_bad_rule() -> None:
    with pytest.raises(ThresholdError, match=r'threshold "audit\.ko\.\.": at 10'):
        parse_rules(["audit.ok", "audit.ko..", "bad <"])
    assert [str(r) for r in parse_rules(["  errors.rate<1%", "audit.ok"])] == [
        "errors.rate < 1%",
        "audit.ok",
    ]


def test_normalised_text_and_numbers() -> None:
    rule = parse_rule("  catalogue.error_rate<=  1.5%  ")
    assert str(rule) == "catalogue.error_rate <= 1.5%"
    assert rule.threshold == pytest.approx(0.015)
    assert parse_rule("errors.count > -2").threshold == -2
    assert parse_rule("errors.count > 1e3").threshold == 1000
    assert parse_rule("errors.count > .5").threshold == 0.5
    assert isinstance(parse_rule("audit.ok"), Rule)
    assert parse_rule("audit.ok").op is None


# -- live ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "live"),
    [
        ("submit.p99_ms < 300", True),
        ("sync.p99_ms < 300", True),
        ("all.p95_ms < 300", True),
        ("errors.rate < 1%", True),
        ("[POST /api/v1/dossiers].count > 0", True),
        ("arrivals.max_lag_ms < 1000", True),
        ("groups.submit.count > 0", True),
        ("business.on_time_share >= 0.95", False),
        ("audit.ok", False),
        ("payments.confirmed > 0", False),
        ("sync.items > 0", False),
        ("queueing.measured > 0", False),
        ("steps.knee_rps > 0", False),
        ("soak.drift > 0", False),
        ("run.valid", False),
    ],
)
def test_liveness(text: str, live: bool) -> None:
    assert parse_rule(text).live is live


def test_live_evaluation_judges_what_is_there_and_waits_for_the_rest() -> None:
    full = results()
    snapshot = Snapshot(real_seconds=5.0, requests=full.requests, groups=full.groups, all=full.all)
    rules = parse_rules(["submit.p99_ms < 300", "all.rps == 200", "login.p99_ms < 300"])
    broken, met, pending = evaluate_live(rules, snapshot)
    assert not broken.ok
    assert met.ok
    assert (pending.ok, pending.pending, pending.status) == (True, True, "pending")
    assert pending.line().startswith("pending: login.p99_ms < 300 (not yet measured: no request in")
    # At the end the same missing value breaks the rule.
    assert not evaluate([rules[2]], snapshot)[0].ok
    with pytest.raises(ThresholdError, match="cannot be checked during the run"):
        evaluate_live(parse_rules(["audit.ok"]), snapshot)


# -- configuration ---------------------------------------------------------------------------


def test_section_defaults_and_rules() -> None:
    section = ThresholdsSection(
        rules=["audit.ok", "errors.rate < 1%"],
        abort_on_fail=["errors.rate<1%", "all.p99_ms < 2000"],
    )
    assert section.abort_after_seconds == 15
    assert [str(r) for r in section.abort_rules()] == ["errors.rate < 1%", "all.p99_ms < 2000"]
    assert [str(r) for r in section.final_rules()] == [
        "audit.ok",
        "errors.rate < 1%",
        "all.p99_ms < 2000",
    ]
    assert ThresholdsSection().final_rules() == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"rules": ["audit.ok", "submit.p99_ms << 300"]},
            'threshold "submit.p99_ms << 300": at 16',
        ),
        ({"abort_on_fail": ["bad"]}, 'threshold "bad": at 1'),
        (
            {"abort_on_fail": ["business.on_time_share >= 0.95"]},
            "cannot be checked during the run (business is only known at the end)",
        ),
        ({"abort_after": "soon"}, "duration 'soon'"),
        ({"rule": ["audit.ok"]}, "Extra inputs are not permitted"),
    ],
)
def test_section_refuses_bad_rules(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ThresholdsSection.model_validate(fields)
    assert message in str(caught.value)


def test_thresholds_file_with_a_table_or_top_level_keys(tmp_path: Path) -> None:
    tabled = tmp_path / "slo.toml"
    tabled.write_text(
        '[run]\nscale = 1\n\n[thresholds]\nrules = ["audit.ok"]\nabort_after = "30s"\n',
        encoding="utf-8",
    )
    assert load_thresholds_file(tabled).rules == ["audit.ok"]
    assert load_thresholds_file(tabled).abort_after_seconds == 30
    flat = tmp_path / "flat.toml"
    flat.write_text('abort_on_fail = ["errors.rate < 1%"]\n', encoding="utf-8")
    assert load_thresholds_file(str(flat)).abort_on_fail == ["errors.rate < 1%"]


def test_thresholds_file_failures_are_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "none.toml"
    with pytest.raises(ThresholdError, match=r"^thresholds file .*none\.toml: not found$"):
        load_thresholds_file(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("rules = [\n", encoding="utf-8")
    with pytest.raises(ThresholdError, match=r"broken\.toml: not valid TOML \(") as caught:
        load_thresholds_file(broken)
    assert "\n" not in str(caught.value)
    bad = tmp_path / "bad.toml"
    bad.write_text('[thresholds]\nrules = ["audit.ok", "nope < 1"]\n', encoding="utf-8")
    with pytest.raises(ThresholdError) as caught:
        load_thresholds_file(bad)
    assert str(caught.value).startswith("thresholds file ")
    assert 'bad.toml: rules: threshold "nope < 1": at 1, expected a known root' in str(caught.value)
    odd = tmp_path / "odd.toml"
    odd.write_text('thresholds = "audit.ok"\n', encoding="utf-8")
    with pytest.raises(ThresholdError, match="thresholds must be a table"):
        load_thresholds_file(odd)


# -- the real sample -------------------------------------------------------------------------


def test_the_rules_on_a_real_results_file() -> None:
    sample = load_results(SAMPLE)
    rules = parse_rules(
        [
            "submit.p99_ms < 300",
            "[POST /api/v1/dossiers].p99_ms < 400",
            "errors.rate < 0.1%",
            "errors.count == 0",
            "business.on_time_share >= 0.95",
            "business.latency_working_hours.p95 < 8",
            "arrivals.max_lag_ms < 1000",
            "payments.confirmed == 9",
            "audit.ok",
            "run.valid",
            "sync.p999_ms < 10",
            "all.p95_ms <= 800",
            "catalogue.error_rate < 1%",
        ]
    )
    lines = [outcome.line() for outcome in evaluate(rules, sample)]
    assert lines == [
        "met: submit.p99_ms < 300 (measured 120.255)",
        "met: [POST /api/v1/dossiers].p99_ms < 400 (measured 120.255)",
        "met: errors.rate < 0.1% (measured 0%)",
        "met: errors.count == 0 (measured 0)",
        "met: business.on_time_share >= 0.95 (measured 1)",
        "met: business.latency_working_hours.p95 < 8 (measured 5.215)",
        "met: arrivals.max_lag_ms < 1000 (measured 4.611)",
        "met: payments.confirmed == 9 (measured 9)",
        "met: audit.ok (measured true)",
        "met: run.valid (measured true)",
        "broken: sync.p999_ms < 10 (measured 338.943)",
        "met: all.p95_ms <= 800 (measured 27.359)",
        "met: catalogue.error_rate < 1% (measured 0%)",
    ]


# -- property: the comparison is Python's ------------------------------------------------------

PYTHON: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
FINITE = st.floats(allow_nan=False, allow_infinity=False, width=64)


def with_failures(failures: int) -> Results:
    return results_with(requests={"GET /x": request("g", failures + 1, failures)})


@given(
    x=st.integers(min_value=0, max_value=10**9),
    data=st.data(),
    op=st.sampled_from(sorted(OPERATORS)),
)
def test_errors_count_compares_like_python(x: int, data: st.DataObject, op: str) -> None:
    y = data.draw(st.one_of(st.just(x), st.integers(-(10**9), 10**9), FINITE), label="y")
    [outcome] = evaluate([parse_rule(f"errors.count {op} {y!r}")], with_failures(x))
    assert outcome.measured == x
    assert outcome.ok is PYTHON[op](x, y)


@given(x=FINITE, data=st.data(), op=st.sampled_from(sorted(OPERATORS)))
def test_path_metrics_compare_like_python(x: float, data: st.DataObject, op: str) -> None:
    y = data.draw(st.one_of(st.just(x), FINITE), label="y")
    facts = results_with(business={"on_time_share": x})
    [outcome] = evaluate([parse_rule(f"business.on_time_share {op} {y!r}")], facts)
    assert outcome.ok is PYTHON[op](x, y)
