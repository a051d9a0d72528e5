"""Fault knobs: the grammar shared by the gateway and the portal, and the portal's route-scoped
rules. Pure parsing and rolling, no I/O.

A knob list is written `name=probability[:value],...`, e.g. `latency=0.5:800,error=0.1`; each
app has its own table of knobs (`app/gateway/faults.py`, `PORTAL_KNOBS` below). The portal adds
scopes: rules separated by `;`, each `[METHOD] [/route/{template}]: knobs` or bare knobs, e.g.

    POST /api/v1/dossiers: latency=0.5:200, error=0.01; GET /api/v1/procedures: latency=1:50

A rule without a route applies to every API route (not the operations routes /healthz, /readyz,
/metrics, /api/v1/clock: a load run's own probes must keep working); a rule naming a route
applies to it alone, with its method if one is given. Where several rules match a request, the
most specific one wins knob by knob (METHOD + route over route over METHOD over none), and at
equal specificity the later one.
"""

from __future__ import annotations

import difflib
import random
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

PORTAL_FAULT_HEADER = "X-Portal-Faults"
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class FaultSyntaxError(ValueError):
    """A fault text that cannot be parsed; `position` is the 1-based character it concerns."""

    def __init__(self, problem: str, position: int | None = None) -> None:
        self.problem = problem
        self.position = position
        super().__init__(problem if position is None else f"at character {position}: {problem}")


@dataclass(frozen=True)
class Knob:
    default: str | None  # the value when none is given; None: the knob takes no value
    choices: frozenset[str] | None = None  # the values allowed; None: a non-negative number
    choice_name: str = "an allowed value"  # how a refusal names the choices


@dataclass(frozen=True)
class Fault:
    probability: float
    value: str | None = None

    @property
    def number(self) -> float:
        return float(self.value or 0)


Faults = dict[str, Fault]


def parse_knobs(text: str | None, knobs: Mapping[str, Knob], *, start: int = 0) -> Faults:
    """`latency=0.5:800,error=1` → {"latency": Fault(0.5, "800"), "error": Fault(1)}. `start` is
    the text's offset in a larger one, so that errors point into that."""
    faults: Faults = {}
    offset = start
    for raw in (text or "").split(","):
        at = offset + len(raw) - len(raw.lstrip()) + 1  # 1-based, past leading blanks
        offset += len(raw) + 1
        item = raw.strip()
        if not item:
            continue
        name_text, sep, rest = item.partition("=")
        name = name_text.strip()
        if name not in knobs:
            raise FaultSyntaxError(f"unknown fault knob {name!r} (known: {', '.join(knobs)})", at)
        if not sep:
            raise FaultSyntaxError(f"{name}: expected {name}=probability[:value]", at)
        probability_text, colon, value_text = rest.partition(":")
        probability_at = at + len(name_text) + 1
        try:
            probability = float(probability_text)
        except ValueError:
            raise FaultSyntaxError(
                f"{name}: {probability_text.strip()!r} is not a probability", probability_at
            ) from None
        if not 0.0 <= probability <= 1.0:  # NaN fails both comparisons, so it lands here too
            raise FaultSyntaxError(
                f"{name}: probability {probability} is outside [0, 1]", probability_at
            )
        value_at = probability_at + len(probability_text) + len(colon)
        faults[name] = Fault(probability, _value(name, knobs[name], value_text.strip(), value_at))
    return faults


def _value(name: str, knob: Knob, text: str, at: int) -> str | None:
    if knob.default is None:
        if text:
            raise FaultSyntaxError(f"{name} takes no value", at)
        return None
    value = text or knob.default
    if knob.choices is not None:
        if value not in knob.choices:
            raise FaultSyntaxError(f"{name}: {value!r} is not {knob.choice_name}", at)
        return value
    try:
        number = float(value)
    except ValueError:
        raise FaultSyntaxError(f"{name}: {value!r} is not a number", at) from None
    if not 0 <= number < float("inf"):
        raise FaultSyntaxError(f"{name}: {value!r} must be a non-negative number", at)
    return value


def format_knobs(faults: Faults) -> str:
    """The inverse of `parse_knobs`: `latency=0.5:800, error=1`."""
    return ", ".join(
        f"{name}={_probability(fault.probability)}"
        + ("" if fault.value is None else f":{fault.value}")
        for name, fault in faults.items()
    )


def _probability(value: float) -> str:
    # repr() round-trips exactly; 0 and 1 read better without their ".0".
    return str(int(value)) if value in (0.0, 1.0) else repr(value)


def merge(base: Faults, override: Faults) -> Faults:
    """The knobs in force: the base set, each knob the override names replaced."""
    return {**base, **override}


class FaultRoller:
    """Rolls knobs with one seeded generator (one per app), so that a run is reproducible."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def fires(self, faults: Faults, name: str) -> Fault | None:
        """The knob if it fires this time, else None. A probability of 0 or 1 never draws, so a
        set of such knobs leaves the sequence (and thus the run) exactly as without them."""
        fault = faults.get(name)
        if fault is None or fault.probability <= 0:
            return None
        if fault.probability >= 1 or self._random.random() < fault.probability:
            return fault
        return None


# -- the portal's rules ---------------------------------------------------------------------

PORTAL_KNOBS: Mapping[str, Knob] = {
    "latency": Knob("500"),  # milliseconds added before the answer
    "error": Knob(None),  # answer 503 `injected_fault` without running the route
}


@dataclass(frozen=True)
class Rule:
    """Knobs for the requests a scope selects: a method, a route template, both, or neither."""

    faults: Faults
    method: str | None = None
    path: str | None = None

    @property
    def specificity(self) -> int:
        return (2 if self.path is not None else 0) + (1 if self.method is not None else 0)

    def applies(self, method: str, path: str, *, operational: bool) -> bool:
        """Whether it selects `method path` (a route template); a rule without a path leaves
        the operations routes alone."""
        if self.path is None and operational:
            return False
        return self.path in (None, path) and self.method in (None, method)


Rules = tuple[Rule, ...]


def parse_rules(
    text: str | None,
    routes: Collection[tuple[str, str]] | None = None,
    knobs: Mapping[str, Knob] = PORTAL_KNOBS,
) -> Rules:
    """`POST /api/v1/dossiers: error=1; latency=1:50` → two rules. If `routes` (method, route
    template) is given, a rule naming a route the app does not have is refused, so that a typo
    does not leave the faults silently unapplied."""
    rules: list[Rule] = []
    offset = 0
    for raw in (text or "").split(";"):
        start = offset
        offset += len(raw) + 1
        if not raw.strip():
            continue
        head, colon, tail = raw.partition(":")
        # A scope holds no `=`; the knobs of an unscoped rule do, before any of their colons.
        if not colon or "=" in head:
            if _looks_like_scope(raw):  # knob names never start with `/` or a method
                raise FaultSyntaxError(
                    f"{raw.strip()!r}: expected [METHOD] [/route/template]: knobs",
                    start + len(raw) - len(raw.lstrip()) + 1,
                )
            rules.append(Rule(parse_knobs(raw, knobs, start=start)))
            continue
        method, path = _scope(head, start, routes)
        faults = parse_knobs(tail, knobs, start=start + len(head) + 1)
        if not faults:
            raise FaultSyntaxError(
                f"no knobs after {head.strip()!r}:", start + len(head.rstrip()) + 1
            )
        rules.append(Rule(faults, method, path))
    return tuple(rules)


def _looks_like_scope(text: str) -> bool:
    first = text.split()[0]
    return first.startswith("/") or first in HTTP_METHODS


def _scope(
    head: str, start: int, routes: Collection[tuple[str, str]] | None
) -> tuple[str | None, str | None]:
    at = start + len(head) - len(head.lstrip()) + 1
    words = head.split()
    method = words[0] if words and not words[0].startswith("/") else None
    paths = words[1:] if method is not None else words
    if method is not None and method not in HTTP_METHODS:
        known = ", ".join(sorted(HTTP_METHODS))
        raise FaultSyntaxError(f"{method!r} is not an HTTP method (known: {known})", at)
    if len(paths) > 1 or (paths and not paths[0].startswith("/")):
        raise FaultSyntaxError(
            f"{head.strip()!r} is not a scope: expected [METHOD] [/route/template]", at
        )
    path = paths[0] if paths else None
    if routes is not None and path is not None:
        methods = sorted(m for m, p in routes if p == path)
        if not methods:
            close = difflib.get_close_matches(path, sorted({p for _, p in routes}), n=1)
            hint = f"did you mean {close[0]}?" if close else "give a route template"
            raise FaultSyntaxError(f"no route {path} ({hint})", at)
        if method is not None and method not in methods:
            raise FaultSyntaxError(
                f"no route {method} {path} (it answers {', '.join(methods)})", at
            )
    return method, path


def format_rules(rules: Iterable[Rule]) -> str:
    """The inverse of `parse_rules`, e.g. for the start-up log line."""
    parts = []
    for rule in rules:
        scope = " ".join(part for part in (rule.method, rule.path) if part is not None)
        knobs = format_knobs(rule.faults)
        parts.append(f"{scope}: {knobs}" if scope else knobs)
    return "; ".join(parts)


def faults_for(rules: Iterable[Rule], method: str, path: str, *, operational: bool) -> Faults:
    """The knobs in force for `method path` (a route template): each matching rule's knobs,
    the more specific (and, among equals, the later) overriding the others."""
    matching = [rule for rule in rules if rule.applies(method, path, operational=operational)]
    faults: Faults = {}
    # sorted() is stable: rules of equal specificity keep their written order.
    for rule in sorted(matching, key=lambda rule: rule.specificity):
        faults = merge(faults, rule.faults)
    return faults
