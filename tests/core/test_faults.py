"""The fault grammar (shared with the gateway) and the portal's route-scoped rules: parsing,
positions in error messages, which rule wins, the seeded roller, and a parse/format round trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.faults import (
    HTTP_METHODS,
    PORTAL_KNOBS,
    Fault,
    FaultRoller,
    FaultSyntaxError,
    Rule,
    faults_for,
    format_rules,
    parse_knobs,
    parse_rules,
)

ROUTES = {
    ("POST", "/api/v1/dossiers"),
    ("GET", "/api/v1/dossiers"),
    ("GET", "/api/v1/dossiers/{code}"),
    ("GET", "/api/v1/procedures"),
    ("GET", "/healthz"),
}


def test_the_briefs_example() -> None:
    text = (
        "POST /api/v1/dossiers: latency=0.5:200, error=0.01; GET /api/v1/procedures: latency=1:50"
    )
    assert parse_rules(text, ROUTES) == (
        Rule({"latency": Fault(0.5, "200"), "error": Fault(0.01)}, "POST", "/api/v1/dossiers"),
        Rule({"latency": Fault(1.0, "50")}, "GET", "/api/v1/procedures"),
    )


def test_scopes_a_method_a_route_both_or_none() -> None:
    assert parse_rules(
        "error=0.1; POST: latency=1; /api/v1/dossiers/{code}: latency=1:5;;"
        " GET /api/v1/dossiers/{code} : error=1 ;"
    ) == (
        Rule({"error": Fault(0.1)}),
        Rule({"latency": Fault(1.0, "500")}, "POST"),  # latency defaults to 500 ms
        Rule({"latency": Fault(1.0, "5")}, None, "/api/v1/dossiers/{code}"),
        Rule({"error": Fault(1.0)}, "GET", "/api/v1/dossiers/{code}"),
    )
    assert parse_rules("") == parse_rules(None) == parse_rules(" ; ") == ()


def test_the_most_specific_rule_wins_knob_by_knob() -> None:
    rules = parse_rules(
        "GET /api/v1/dossiers: error=0.3; error=0.1, latency=1:10; /api/v1/dossiers: error=0.2;"
        " GET: latency=1:20; error=0.9"
    )

    def resolved(method: str, path: str, *, operational: bool = False) -> dict[str, Fault]:
        return faults_for(rules, method, path, operational=operational)

    assert resolved("GET", "/api/v1/dossiers") == {
        "error": Fault(0.3),  # method + route beats route, method and the unscoped rules
        "latency": Fault(1.0, "20"),  # method beats the unscoped rule
    }
    assert resolved("POST", "/api/v1/dossiers") == {
        "error": Fault(0.2),
        "latency": Fault(1.0, "10"),
    }
    # Among unscoped rules the later wins; other routes only see those (and the method rule).
    assert resolved("POST", "/api/v1/procedures") == {
        "error": Fault(0.9),
        "latency": Fault(1.0, "10"),
    }
    # Operations routes are left alone by rules that do not name them.
    assert resolved("GET", "/healthz", operational=True) == {}
    assert faults_for(
        parse_rules("error=1; GET /healthz: error=1"), "GET", "/healthz", operational=True
    ) == {"error": Fault(1.0)}


@pytest.mark.parametrize(
    ("text", "position", "problem"),
    [
        ("explode=1", 1, "unknown fault knob 'explode' (known: latency, error)"),
        ("latency=1:50, error=1.5", 21, "error: probability 1.5 is outside [0, 1]"),
        ("latency=x", 9, "latency: 'x' is not a probability"),
        ("latency=nan", 9, "latency: probability nan is outside [0, 1]"),
        ("latency=1:-3", 11, "latency: '-3' must be a non-negative number"),
        ("latency=1:inf", 11, "latency: 'inf' must be a non-negative number"),
        ("latency=1:soon", 11, "latency: 'soon' is not a number"),
        ("error=1:5", 9, "error takes no value"),
        ("error", 1, "error: expected error=probability[:value]"),
        ("latency=1; GET /api/v1/dossiers/{code}", 12, "expected [METHOD] [/route/template]: "),
        ("POST /api/v1/dossiers latency=1:5", 1, "expected [METHOD] [/route/template]: "),
        ("GET /api/v1/procedures: ", 23, "no knobs after 'GET /api/v1/procedures':"),
        ("FETCH /api/v1/dossiers: error=1", 1, "'FETCH' is not an HTTP method"),
        ("post /api/v1/dossiers: error=1", 1, "'post' is not an HTTP method"),
        ("GET /a /b: error=1", 1, "is not a scope"),
        ("GET api/v1/dossiers: error=1", 1, "is not a scope"),
        ("error=1; /api/v1/dosiers: error=1", 10, "no route /api/v1/dosiers (did you mean"),
        (
            "PUT /api/v1/dossiers: error=1",
            1,
            "no route PUT /api/v1/dossiers (it answers GET, POST)",
        ),
        ("GET /api/v1/dossiers/ABC-1: error=1", 1, "no route /api/v1/dossiers/ABC-1"),
    ],
)
def test_a_malformed_text_names_its_position_and_problem(
    text: str, position: int, problem: str
) -> None:
    with pytest.raises(FaultSyntaxError) as caught:
        parse_rules(text, ROUTES)
    assert caught.value.position == position
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"at character {position}: ")


def test_the_gateway_knobs_share_the_grammar() -> None:
    from app.gateway.faults import KNOBS, parse_faults

    assert parse_faults("latency=1, decline=0.5:65") == parse_knobs(
        "latency=1,decline=0.5:65", KNOBS
    )
    with pytest.raises(FaultSyntaxError, match="at character 19: decline: '00' is not a decline"):
        parse_faults("error=1,decline=1:00")


def test_rolls_are_reproducible_for_a_seed() -> None:
    faults = parse_knobs("error=0.5", PORTAL_KNOBS)

    def rolls(seed: int) -> list[bool]:
        roller = FaultRoller(seed)
        return [roller.fires(faults, "error") is not None for _ in range(64)]

    assert rolls(3) == rolls(3)
    assert 0 < sum(rolls(3)) < 64
    assert rolls(3) != rolls(4)


def test_probabilities_of_zero_and_one_do_not_draw() -> None:
    roller, reference = FaultRoller(5), FaultRoller(5)
    certain = parse_knobs("latency=1:10, error=0", PORTAL_KNOBS)
    assert roller.fires(certain, "latency") == Fault(1.0, "10")
    assert roller.fires(certain, "error") is None
    half = parse_knobs("error=0.5", PORTAL_KNOBS)
    assert [roller.fires(half, "error") for _ in range(20)] == [
        reference.fires(half, "error") for _ in range(20)
    ]


# -- round trip -------------------------------------------------------------------------------

probabilities = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
milliseconds = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.floats(min_value=0, max_value=1e6, allow_nan=False).map(repr),
)
knob_sets = st.fixed_dictionaries(
    {},
    optional={
        "latency": st.builds(Fault, probabilities, milliseconds),
        "error": st.builds(Fault, probabilities),
    },
).filter(bool)
rules = st.builds(
    Rule,
    knob_sets,
    st.none() | st.sampled_from(sorted(HTTP_METHODS)),
    st.none() | st.sampled_from(sorted({path for _, path in ROUTES})),
)


@given(st.lists(rules, max_size=5))
def test_format_then_parse_gives_the_rules_back(written: list[Rule]) -> None:
    assert parse_rules(format_rules(written)) == tuple(written)
