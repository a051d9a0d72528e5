"""Service-level rules for a load run, in a small readable syntax like k6's thresholds:

    submit.p99_ms < 300          errors.rate < 0.1%          audit.ok
    all.p95_ms <= 800            [POST /api/v1/dossiers].p99_ms < 400
    business.on_time_share >= 0.95                            arrivals.max_lag_ms < 1000

A rule is `METRIC [OP NUMBER]`. It is parsed before the run starts, so that a typo is refused
with its position instead of surfacing as a silently met rule after an hour of load, and judged
against results.json (`portalsim.results/1`) at the end, or against a partial snapshot of the
same shape during the run (`abort_on_fail`).

METRIC is a dotted path:
- `GROUP.pNN_ms | .max_ms | .count | .rps | .error_rate` for a route group of results["groups"];
  any root outside the fixed list below is a group name, and so is a fixed root followed by one
  of those five leaves (the `sync` group shares its name with the `sync` section, whose keys
  never take those names);
- `all.*`, the same over every request (percentiles from results["all"], merged exactly);
- `[REQUEST NAME].pNN_ms | .count | .failures | .rps | .error_rate` for an entry of
  results["requests"] (names hold spaces and slashes, hence the brackets);
- `errors.rate` (failures / requests over every request) and `errors.count`;
- a path into another section (business, arrivals, payments, sync, audit, run, queueing,
  harness, plan, steps, soak, target, groups) that ends on a number or a boolean.

A value that is missing or null breaks its rule with the reason, never passes it.
"""

from __future__ import annotations

import math
import operator
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from loadtest.metrics import PERCENTILES
from loadtest.model.durations import Duration, parse_duration
from loadtest.results_model import GroupFigures, RequestFigures, Results, RuleOutcome

Kind = Literal["group", "all", "request", "errors", "path"]

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
# Latency leaves, as recorded by loadtest.metrics.percentiles_ms: p50_ms ... p999_ms, max_ms.
LATENCY_LEAVES = {f"{key}_ms": key for key in [*PERCENTILES, "max"]}
GROUP_LEAVES = (*LATENCY_LEAVES, "count", "rps", "error_rate")
REQUEST_LEAVES = (*LATENCY_LEAVES, "count", "failures", "rps", "error_rate")
ERROR_LEAVES = ("rate", "count")
# Sections of results.json a rule may reach by path; "groups" allows groups.submit.latency_ms.p99.
PATH_ROOTS = (
    "groups",
    "business",
    "arrivals",
    "payments",
    "sync",
    "audit",
    "run",
    "queueing",
    "harness",
    "plan",
    "steps",
    "soak",
    "target",
)
# What a live snapshot carries (groups, all, requests, errors, arrivals); everything else is
# only known once the run is over (the audit, business figures, the verdict).
LIVE_PATH_ROOTS = frozenset({"groups", "arrivals"})
_ROOTS_HELP = (
    "all, errors, [request name], a route group followed by "
    ".pNN_ms/.count/.rps/.error_rate, or one of " + ", ".join(PATH_ROOTS)
)

# Written by hand, with anchored regexes, rather than with a parser library: the grammar is a
# dozen tokens, and hand-written steps give each error its exact position and expectation.
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_OPERATOR = re.compile(r"<=|>=|==|!=|<|>")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(%?)")
_PERCENTILE_LIKE = re.compile(r"p\d+_ms")


class ThresholdError(ValueError):
    """A rule that cannot be parsed or checked, or a thresholds file that cannot be read."""


def _fail(text: str, at: int, expected: str) -> ThresholdError:
    """`at` is a 0-based index into `text`; the message gives it 1-based, with what was there."""
    rest = text[at:].split(None, 1)
    found = f'"{rest[0][:20]}"' if rest else "the end"
    return ThresholdError(f'threshold "{text}": at {at + 1}, expected {expected}, found {found}')


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


@dataclass(frozen=True)
class Rule:
    """One parsed rule. `path` is the metric's segments (a request's name is one segment);
    `op` and `threshold` are None for a bare boolean rule."""

    kind: Kind
    path: tuple[str, ...]
    op: str | None = None
    threshold: float | None = None
    number: str | None = None  # the number as written ("1%"), kept for the normalised text

    @property
    def metric(self) -> str:
        if self.kind == "request":
            return f"[{self.path[0]}].{self.path[1]}"
        return ".".join(self.path)

    @property
    def root(self) -> str:
        return self.path[0]

    @property
    def percent(self) -> bool:
        return bool(self.number and self.number.endswith("%"))

    @property
    def live(self) -> bool:
        """Whether a snapshot taken during the run holds this rule's metric."""
        return self.kind != "path" or self.root in LIVE_PATH_ROOTS

    def __str__(self) -> str:
        if self.op is None:
            return self.metric
        return f"{self.metric} {self.op} {self.number}"


def _metric(text: str, start: int) -> tuple[Rule, int]:
    """The metric starting at `start`: its rule (without operator) and the index after it."""
    segments: list[tuple[str, int]] = []  # each segment with its 0-based position
    at = start
    if text.startswith("[", at):
        close = _closing_bracket(text, at)
        name = text[at + 1 : close].strip()
        if not name:
            raise _fail(text, at + 1, "a request name inside [...]")
        segments.append((name, at))
        at = close + 1
        if not text.startswith(".", at):
            raise _fail(text, at, f'"." and a request metric after "[{name}]"')
    else:
        found = _SEGMENT.match(text, at)
        if found is None:
            what = "a metric (the rule is empty)" if not text.strip() else "a metric"
            raise _fail(text, at, what)
        segments.append((found.group(), at))
        at = found.end()
    while text.startswith(".", at):
        found = _SEGMENT.match(text, at + 1)
        if found is None:
            raise _fail(text, at + 1, 'a name after "."')
        segments.append((found.group(), at + 1))
        at = found.end()
    return _classify(text, segments, at), at


def _closing_bracket(text: str, start: int) -> int:
    """The index of the "]" matching the "[" at `start`: request names hold route templates
    with brackets of their own ("GET /api/v1/dossiers/[code]")."""
    depth = 0
    for at in range(start, len(text)):
        if text[at] == "[":
            depth += 1
        elif text[at] == "]":
            depth -= 1
            if depth == 0:
                return at
    raise _fail(text, len(text), f'"]" closing the request name opened at {start + 1}')


def _only(text: str, segments: list[tuple[str, int]], count: int) -> None:
    """Refuse segments beyond the `count` a computed metric has."""
    if len(segments) > count:
        raise _fail(text, segments[count][1] - 1, "an operator or the end of the metric")


def _leaf(
    text: str, segments: list[tuple[str, int]], leaves: Sequence[str], after: str, end: int
) -> str:
    if len(segments) < 2:
        raise _fail(text, end, f'"." and one of {", ".join(leaves)} after "{after}"')
    leaf, position = segments[1]
    if leaf not in leaves:
        raise _fail(text, position, f'one of {", ".join(leaves)} after "{after}."')
    _only(text, segments, 2)
    return leaf


def _classify(text: str, segments: list[tuple[str, int]], end: int) -> Rule:
    root, root_at = segments[0]
    names = tuple(name for name, _ in segments)
    if text.startswith("[", root_at):
        leaf = _leaf(text, segments, REQUEST_LEAVES, f"[{root}]", end)
        return Rule("request", (root, leaf))
    if root == "all":
        return Rule("all", ("all", _leaf(text, segments, GROUP_LEAVES, "all", end)))
    if root == "errors":
        return Rule("errors", ("errors", _leaf(text, segments, ERROR_LEAVES, "errors", end)))
    is_group_metric = len(names) == 2 and names[1] in GROUP_LEAVES
    if root in PATH_ROOTS and not (is_group_metric and root != "groups"):
        if len(names) < 2:
            raise _fail(text, end, f'"." and a name inside "{root}"')
        return Rule("path", names)
    if len(names) >= 2 and names[1] in GROUP_LEAVES:
        _only(text, segments, 2)
        return Rule("group", names)
    if len(names) >= 2 and _PERCENTILE_LIKE.fullmatch(names[1]):
        raise _fail(text, segments[1][1], f"a recorded latency ({', '.join(LATENCY_LEAVES)})")
    raise _fail(text, root_at, f"a known root ({_ROOTS_HELP})")


def parse_rule(text: str) -> Rule:
    """`METRIC [OP NUMBER]`; a ThresholdError names the rule, the position and what was
    expected there."""
    at = _skip(text, 0)
    rule, at = _metric(text, at)
    at = _skip(text, at)
    if at == len(text):
        if rule.kind != "path":
            raise _fail(
                text,
                at,
                f'an operator and a number after "{rule.metric}" (a bare metric is a boolean '
                f"rule, and {rule.path[-1]} is a number)",
            )
        return rule
    found = _OPERATOR.match(text, at)
    if found is None:
        raise _fail(text, at, f"an operator ({', '.join(OPERATORS)}) or the end")
    op = found.group()
    at = _skip(text, found.end())
    number = _NUMBER.match(text, at)
    if number is None:
        raise _fail(text, at, f'a number after "{op}"')
    value = float(number.group().removesuffix("%"))
    if number.group(1):
        value /= 100
    if not math.isfinite(value):
        raise _fail(text, at, "a finite number")
    after = _skip(text, number.end())
    if after != len(text):
        raise _fail(text, after, f'the end of the rule after "{number.group()}"')
    return Rule(rule.kind, rule.path, op, value, number.group())


def parse_rules(texts: Iterable[str]) -> list[Rule]:
    return [parse_rule(text) for text in texts]


# -- evaluation --------------------------------------------------------------------------------

Measured = float | bool


@dataclass(frozen=True)
class Outcome:
    """The judgement of one rule. `reason` explains a rule broken without a comparable value
    ("no value: ..."), or, live, a rule not yet measurable (then `ok` and `pending`)."""

    rule: Rule
    ok: bool
    measured: Measured | None
    reason: str | None = None
    pending: bool = False

    @property
    def status(self) -> Literal["met", "broken", "pending"]:
        if self.pending:
            return "pending"
        return "met" if self.ok else "broken"

    def line(self) -> str:
        if self.reason is not None:
            detail = self.reason
        elif isinstance(self.measured, bool):
            detail = f"measured {str(self.measured).lower()}"
        elif self.measured is not None:
            detail = f"measured {_number(self.measured, percent=self.rule.percent)}"
        else:  # unreachable for outcomes built here: no value always comes with a reason
            detail = "no value"
        return f"{self.status}: {self.rule} ({detail})"

    def section(self) -> RuleOutcome:
        """The outcome as results.json's `thresholds.rules` holds it."""
        return RuleOutcome(
            rule=str(self.rule),
            status=self.status,
            measured=self.measured,
            reason=self.reason,
            line=self.line(),
        )


def _number(value: float, *, percent: bool) -> str:
    if percent:
        return f"{value * 100:.4g}%"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


class _NoValue(Exception):
    """The metric has no value in these results; the message says why."""


class Snapshot(BaseModel):
    """The request figures of part of a run, judged like a whole run's results: the run so far
    (abort_on_fail) or one step of a step run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    real_seconds: float
    requests: dict[str, RequestFigures]
    groups: dict[str, GroupFigures]
    all: GroupFigures


Judged = Results | Snapshot


def _real_seconds(figures: Judged) -> float:
    seconds = figures.run.real_seconds if isinstance(figures, Results) else figures.real_seconds
    if seconds <= 0:
        raise _NoValue("run.real_seconds is not positive, so no rate")
    return seconds


def _totals(entries: Iterable[RequestFigures]) -> tuple[int, int]:
    count = failures = 0
    for entry in entries:
        count += entry.count
        failures += entry.failures
    return count, failures


def _rate(failures: int, count: int, what: str) -> float:
    if count == 0:
        raise _NoValue(f"no request completed in {what}")
    return failures / count


def _latency(entry: RequestFigures | GroupFigures, leaf: str, what: str) -> float:
    if not entry.count:
        raise _NoValue(f"no request completed in {what}, so no latency")
    return float(getattr(entry.latency_ms, LATENCY_LEAVES[leaf]))


def _group_value(figures: Judged, group: str, leaf: str) -> float:
    entry = figures.groups.get(group)
    if entry is None:
        known = ", ".join(sorted(figures.groups)) or "none"
        raise _NoValue(f'no request in group "{group}" (groups seen: {known})')
    what = f'group "{group}"'
    if leaf in LATENCY_LEAVES:
        return _latency(entry, leaf, what)
    if leaf == "count":
        return float(entry.count)
    if leaf == "rps":
        return entry.count / _real_seconds(figures)
    # error_rate: failures are kept per request name, so sum the requests of this group.
    count, failures = _totals(r for r in figures.requests.values() if r.group == group)
    return _rate(failures, count, what)


def _all_value(figures: Judged, leaf: str) -> float:
    if leaf in LATENCY_LEAVES:
        # Percentiles do not merge from per-group figures; `all` holds exact ones.
        return _latency(figures.all, leaf, "the run")
    count, failures = _totals(figures.requests.values())
    if leaf == "count":
        return float(count)
    if leaf == "rps":
        return count / _real_seconds(figures)
    return _rate(failures, count, "the run")


def _request_value(figures: Judged, name: str, leaf: str) -> float:
    entry = figures.requests.get(name)
    if entry is None:
        raise _NoValue(f'no request named "{name}" in the results')
    what = f'"{name}"'
    if leaf in LATENCY_LEAVES:
        return _latency(entry, leaf, what)
    if leaf == "count":
        return float(entry.count)
    if leaf == "failures":
        return float(entry.failures)
    if leaf == "rps":
        return entry.count / _real_seconds(figures)
    return _rate(entry.failures, entry.count, what)


def _keys(here: BaseModel) -> dict[str, str]:
    """A section's keys as results.json spells them, each with its attribute; a section the
    file omits (an absent optional section) is not among them."""
    omitted: frozenset[str] = getattr(here, "omitted_when_none", frozenset())
    return {
        field.alias or name: name
        for name, field in type(here).model_fields.items()
        if not (name in omitted and getattr(here, name) is None)
    }


def _path_value(figures: Judged, path: tuple[str, ...]) -> Measured:
    """The value at a dotted path into the results: a section's key, or a key of a table
    (route groups, business.by)."""
    here: object = figures
    for depth, key in enumerate(path):
        where = ".".join(path[:depth]) or "results"
        if isinstance(here, BaseModel):
            keys = _keys(here)
            if key not in keys:
                raise _NoValue(f'{where} has no "{key}" (it has {_known(keys)})')
            here = getattr(here, keys[key])
        elif isinstance(here, Mapping):
            if key not in here:
                raise _NoValue(f'{where} has no "{key}" (it has {_known(here)})')
            here = here[key]
        else:
            raise _NoValue(f"{'.'.join(path[:depth])} is not a table")
    dotted = ".".join(path)
    if here is None:
        raise _NoValue(f"{dotted} is null (nothing to measure it on in this run)")
    if isinstance(here, bool):
        return here
    if isinstance(here, int | float):
        if math.isnan(here):
            raise _NoValue(f"{dotted} is not a number (NaN)")
        return float(here)
    kind = "table" if isinstance(here, BaseModel | Mapping) else type(here).__name__
    raise _NoValue(f"{dotted} is a {kind}, not a number or a boolean")


def _known(keys: Iterable[object]) -> str:
    return ", ".join(sorted(map(str, keys))[:12]) or "nothing"


def _measure(rule: Rule, figures: Judged) -> Measured:
    if rule.kind == "group":
        return _group_value(figures, rule.path[0], rule.path[1])
    if rule.kind == "all":
        return _all_value(figures, rule.path[1])
    if rule.kind == "request":
        return _request_value(figures, rule.path[0], rule.path[1])
    if rule.kind == "errors":
        if rule.path[1] == "rate":
            return _all_value(figures, "error_rate")
        return float(_totals(figures.requests.values())[1])
    return _path_value(figures, rule.path)


def _judge(rule: Rule, figures: Judged, *, live: bool) -> Outcome:
    try:
        measured = _measure(rule, figures)
    except _NoValue as missing:
        if live:  # the final evaluation judges it; during the run it may simply not have come
            return Outcome(rule, True, None, f"not yet measured: {missing}", pending=True)
        return Outcome(rule, False, None, f"no value: {missing}")
    if rule.op is None or rule.threshold is None:
        if not isinstance(measured, bool):
            shown = _number(measured, percent=False)
            return Outcome(
                rule, False, measured, f"not a boolean: measured {shown}; add an operator"
            )
        return Outcome(rule, measured, measured)
    if isinstance(measured, bool):
        reason = f"a boolean (measured {str(measured).lower()}): write the bare rule {rule.metric}"
        return Outcome(rule, False, measured, reason)
    return Outcome(rule, OPERATORS[rule.op](measured, rule.threshold), measured)


def evaluate(rules: Iterable[Rule], figures: Judged) -> list[Outcome]:
    """Each rule judged against results.json (or a snapshot), in order; a missing or null value
    breaks it."""
    return [_judge(rule, figures, live=False) for rule in rules]


def evaluate_live(rules: Iterable[Rule], snapshot: Snapshot) -> list[Outcome]:
    """Each rule judged against a snapshot taken during the run (groups, all, requests, errors;
    its real_seconds, the seconds elapsed, for the rates). A value not there yet is `pending`
    (ok): the evaluation at the end still breaks it if it never comes."""
    rules = list(rules)
    for rule in rules:
        if not rule.live:
            raise ThresholdError(f'threshold "{rule}" cannot be checked during the run')
    return [_judge(rule, snapshot, live=True) for rule in rules]


# -- configuration -----------------------------------------------------------------------------


class ThresholdsSection(BaseModel):
    """`[thresholds]` of a workload file or of a `--thresholds` file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[str] = []
    # Checked every few seconds during the run (from abort_after on) and again at the end.
    abort_on_fail: list[str] = []
    abort_after: Duration = "15s"

    @field_validator("rules")
    @classmethod
    def _rules(cls, value: list[str]) -> list[str]:
        parse_rules(value)
        return value

    @field_validator("abort_on_fail")
    @classmethod
    def _abort_on_fail(cls, value: list[str]) -> list[str]:
        for rule in parse_rules(value):
            if not rule.live:
                raise ValueError(
                    f'threshold "{rule}" cannot be checked during the run ({rule.root} is only '
                    "known at the end): put it in rules, not abort_on_fail"
                )
        return value

    @property
    def abort_after_seconds(self) -> float:
        return parse_duration(self.abort_after)

    def abort_rules(self) -> list[Rule]:
        return parse_rules(self.abort_on_fail)

    def final_rules(self) -> list[Rule]:
        """Everything judged at the end: `rules`, then the abort rules not already among them."""
        seen: set[str] = set()
        found: list[Rule] = []
        for rule in parse_rules([*self.rules, *self.abort_on_fail]):
            if str(rule) not in seen:
                seen.add(str(rule))
                found.append(rule)
        return found


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def load_thresholds_file(path: Path | str) -> ThresholdsSection:
    """A TOML file with a `[thresholds]` table (a workload file works: its other tables are not
    read) or the same keys at top level. Every failure is one ThresholdError line."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ThresholdError(f"thresholds file {path}: not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ThresholdError(f"thresholds file {path}: cannot be read ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise ThresholdError(f"thresholds file {path}: not valid TOML ({error})") from None
    table = data.get("thresholds", data)
    if not isinstance(table, dict):
        raise ThresholdError(f"thresholds file {path}: thresholds must be a table")
    try:
        return ThresholdsSection.model_validate(table)
    except ValidationError as error:
        raise ThresholdError(f"thresholds file {path}: {_first_error(error)}") from None
